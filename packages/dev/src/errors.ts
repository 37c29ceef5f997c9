/**
 * Base class of every error of next-cacheback-dev: the dev servers', their HTTP answers' and the CLI's.
 * Check `error.name` or use `instanceof`. (The delivery engine's own errors, from `next-cacheback/delivery`,
 * are next-cacheback's: they extend its `CachebackError`.)
 */
export class DevServerError extends Error {
  override name = "DevServerError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The port a dev server was asked to listen on is taken (or not allowed). `port` and `host` name it. */
export class PortInUseError extends DevServerError {
  override name = "PortInUseError";
  constructor(
    readonly host: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(`Port ${port} on ${host} is already in use: stop whatever listens there, or pick another port.`, options);
  }
}

/** An option given to a dev server that cannot work (a malformed Redis URL, a negative size...). */
export class DevServerOptionsError extends DevServerError {
  override name = "DevServerOptionsError";
}

/** Redis could not be reached: not running, wrong `REDIS_URL`, or the connection dropped. */
export class RedisUnreachableError extends DevServerError {
  override name = "RedisUnreachableError";
}

/**
 * A request a dev server turns down. `status` is the HTTP status it answers with, `headers` go with the
 * answer (such as `Allow` for a 405), and the message becomes the `{"error": ...}` body.
 */
export class HttpError extends DevServerError {
  override name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/**
 * What went wrong, in one line, for logs and answers: the message of an `Error` (for an `AggregateError`
 * without one, the messages it holds; else its code or name), or the text of anything else thrown.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message !== "") return error.message;
  const nested = (error as { errors?: unknown }).errors;
  if (Array.isArray(nested) && nested.length > 0) return nested.map(describeError).join("; ");
  return (error as NodeJS.ErrnoException).code ?? error.name;
}
