import { startDevServers, type DevServers, type QStashServerOptions, type RedisRestServerOptions } from "../../packages/dev/src/index.js";

/** Options of {@link startTestServers}; every server listens on an ephemeral port whatever is given. */
export interface TestServersOptions {
  /** Multiplies QStash delays and retry waits. @default 0.001 */
  retryDelayScale?: number;
  /** More options for the Redis REST server. @default none */
  redis?: Omit<RedisRestServerOptions, "port">;
  /** More options for the QStash server. @default none */
  qstash?: Omit<QStashServerOptions, "port">;
}

/**
 * Starts the Redis REST server and the QStash server on ephemeral ports of 127.0.0.1, with QStash waits
 * scaled down. `env` holds the six variables an app reads; `close()` stops both.
 */
export function startTestServers(options: TestServersOptions = {}): Promise<DevServers> {
  return startDevServers({
    redis: { ...options.redis, port: 0 },
    qstash: { retryDelayScale: options.retryDelayScale ?? 0.001, ...options.qstash, port: 0 },
  });
}
