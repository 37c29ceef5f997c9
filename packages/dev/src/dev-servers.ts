import { startInspector, type Inspector, type InspectorOptions } from "./inspector.js";
import { startQStashServer, type QStashServer, type QStashServerOptions } from "./qstash-server.js";
import { startRedisRestServer, type RedisRestServer, type RedisRestServerOptions } from "./redis-rest.js";

/** Options of {@link startDevServers}: one object per server. */
export interface DevServersOptions {
  /** Options of the Upstash Redis REST server. @default its own defaults (port 8079) */
  redis?: RedisRestServerOptions;
  /** Options of the QStash server. @default its own defaults (port 8080) */
  qstash?: QStashServerOptions;
  /**
   * Starts the inspector too, with these options (it reads through the two servers above).
   * @default not started (`next-cacheback dev` starts it on port 8078)
   */
  inspector?: Omit<InspectorOptions, "redis" | "qstash">;
}

/** Both dev servers, running, from {@link startDevServers}. */
export interface DevServers {
  /** The Upstash Redis REST server. */
  redis: RedisRestServer;
  /** The QStash server. */
  qstash: QStashServer;
  /** The inspector, when `inspector` options were given. */
  inspector: Inspector | undefined;
  /** The environment an app needs to use them, from {@link devServersEnv}. */
  env: Record<string, string>;
  /** Closes both servers and the Redis connection. */
  close(): Promise<void>;
}

/**
 * The environment variables that point `Redis.fromEnv()`, `new Client()` and `new Receiver()` at the
 * given servers: `UPSTASH_REDIS_REST_URL`, `UPSTASH_REDIS_REST_TOKEN`, `QSTASH_URL`, `QSTASH_TOKEN`,
 * `QSTASH_CURRENT_SIGNING_KEY`, `QSTASH_NEXT_SIGNING_KEY`, in that order.
 */
export function devServersEnv(redis: RedisRestServer, qstash: QStashServer): Record<string, string> {
  return {
    UPSTASH_REDIS_REST_URL: redis.url,
    UPSTASH_REDIS_REST_TOKEN: redis.token,
    QSTASH_URL: qstash.url,
    QSTASH_TOKEN: qstash.token,
    QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
  };
}

/**
 * Starts the Upstash Redis REST server, then the QStash server, then (with `inspector` options) the
 * inspector: what `next-cacheback dev` runs. When one fails to start, those started are closed again
 * before the error is rethrown.
 *
 * @example
 * ```ts
 * const servers = await startDevServers({ redis: { port: 0 }, qstash: { port: 0 } });
 * Object.assign(process.env, servers.env);
 * ```
 */
export async function startDevServers(options: DevServersOptions = {}): Promise<DevServers> {
  const redis = await startRedisRestServer(options.redis);
  let qstash: QStashServer;
  try {
    qstash = await startQStashServer(options.qstash);
  } catch (error) {
    await redis.close();
    throw error;
  }
  let inspector: Inspector | undefined;
  if (options.inspector) {
    try {
      inspector = await startInspector({ ...options.inspector, redis, qstash });
    } catch (error) {
      await Promise.all([redis.close(), qstash.close()]);
      throw error;
    }
  }
  let closing: Promise<void> | undefined;
  return {
    redis,
    qstash,
    inspector,
    env: devServersEnv(redis, qstash),
    close: () => {
      closing ??= Promise.all([redis.close(), qstash.close(), inspector?.close()]).then(() => undefined);
      return closing;
    },
  };
}
