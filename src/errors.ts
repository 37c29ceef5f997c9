/**
 * Base class of every error next-cacheback throws. Check `error.name` or use `instanceof`.
 */
export class CachebackError extends Error {
  override name = "CachebackError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A key, job name or job argument that cannot be used (empty, too long, control characters, not JSON). */
export class CachebackKeyError extends CachebackError {
  override name = "CachebackKeyError";
}

/** An option out of range or of the wrong type (for example a negative `lifetime`, or `ttl` below `lifetime`). */
export class CachebackOptionsError extends CachebackError {
  override name = "CachebackOptionsError";
}

/**
 * A value the serializer cannot store faithfully (a `Date`, `BigInt`, `Map`, function, cycle...).
 * Thrown at write time; `key` names the cache key and `path` the offending place inside the value.
 */
export class CachebackSerializationError extends CachebackError {
  override name = "CachebackSerializationError";
  constructor(
    message: string,
    readonly key: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Configuration that is missing or contradictory, such as no refresh URL in production. */
export class CachebackConfigError extends CachebackError {
  override name = "CachebackConfigError";
}

/** A store or queue operation that did not finish within its time budget. */
export class CachebackTimeoutError extends CachebackError {
  override name = "CachebackTimeoutError";
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${operation} did not finish within ${timeoutMs} ms`);
  }
}

/** One line describing anything that was thrown: `Name: message` for errors, the value as text otherwise. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * A store operation whose outcome the caller must know about failed, so it did not happen: a tag
 * invalidation (`revalidateTag`, `updateTag`) while Redis is down or slow, say. Reads never throw it:
 * they fall back to the fetcher. `cause` holds the store's error.
 */
export class CachebackStoreError extends CachebackError {
  override name = "CachebackStoreError";
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(`${operation} failed: ${describeError(cause)}. Nothing was changed; retry it, or report the failure to the caller.`, { cause });
  }
}
