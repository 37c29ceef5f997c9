/** Base class of the errors the `next-cacheback dev` servers throw. Check `error.name` or use `instanceof`. */
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
