import { createServer } from "node:http";
import { DevServerOptionsError } from "./errors.js";
import { baseUrl, closeServer, listen } from "./ports.js";
import { RedisBridge } from "./redis-rest/bridge.js";
import { createRequestHandler, type RedisRestStats } from "./redis-rest/handler.js";

export type { RedisRestStats } from "./redis-rest/handler.js";

/**
 * The bearer token the dev Redis REST server expects unless told otherwise. It is public and only meant
 * for local development: `UPSTASH_REDIS_REST_TOKEN=next-cacheback-dev-redis-token`.
 */
export const DEV_REDIS_TOKEN = "next-cacheback-dev-redis-token";

/** The port the dev Redis REST server listens on unless told otherwise. */
export const DEV_REDIS_REST_PORT = 8079;

/** Options of {@link startRedisRestServer}. */
export interface RedisRestServerOptions {
  /** Port to listen on; 0 picks a free one. @default 8079 */
  port?: number;
  /** Interface to listen on. @default "127.0.0.1" */
  host?: string;
  /** Bearer token clients must send. @default DEV_REDIS_TOKEN */
  token?: string;
  /** The Redis to bridge onto. @default process.env.REDIS_URL ?? "redis://127.0.0.1:6379" */
  redisUrl?: string;
  /** Largest request body accepted, in bytes; a larger one is answered 413. @default 10 MiB */
  maxBodyBytes?: number;
  /** Where log lines go (start, Redis connected or unreachable). @default no logging */
  log?: (line: string) => void;
}

/** A running Redis REST server, from {@link startRedisRestServer}. */
export interface RedisRestServer {
  /** Base URL for `UPSTASH_REDIS_REST_URL`, e.g. `http://127.0.0.1:8079`. */
  readonly url: string;
  /** Token for `UPSTASH_REDIS_REST_TOKEN`. */
  readonly token: string;
  /** The port it listens on (the real one when 0 was asked). */
  readonly port: number;
  /** HTTP requests and Redis commands served since start (or since {@link RedisRestServer.resetStats}). */
  stats(): RedisRestStats;
  /** Sets every counter of {@link RedisRestServer.stats} back to 0. */
  resetStats(): void;
  /** Stops listening, ends open connections and disconnects from Redis. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

function checkRedisUrl(url: string): void {
  if (url.startsWith("/")) return;
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new DevServerOptionsError(`The Redis URL '${url}' is not a URL: use redis://host:port (or rediss:// for TLS).`);
  }
  if (protocol !== "redis:" && protocol !== "rediss:") {
    throw new DevServerOptionsError(`The Redis URL '${url}' must start with redis:// or rediss://.`);
  }
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new DevServerOptionsError(`The port must be an integer from 0 to 65535, got ${port}.`);
  }
}

/**
 * Starts an HTTP server that speaks the Upstash Redis REST protocol (`POST /`, `/pipeline`, `/multi-exec`,
 * base64 response encoding) and runs every command on a real Redis, so the official `@upstash/redis`
 * client works against it unchanged. It starts even while Redis is down: requests then answer 500 with
 * what to do, and service resumes by itself once Redis is back.
 *
 * @example
 * ```ts
 * const server = await startRedisRestServer({ port: 0 });
 * const redis = new Redis({ url: server.url, token: server.token });
 * ```
 */
export async function startRedisRestServer(options: RedisRestServerOptions = {}): Promise<RedisRestServer> {
  const port = options.port ?? DEV_REDIS_REST_PORT;
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? DEV_REDIS_TOKEN;
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = options.log;
  checkPort(port);
  checkRedisUrl(redisUrl);
  if (token === "") throw new DevServerOptionsError("The Redis REST token must not be empty.");
  if (!(maxBodyBytes > 0)) throw new DevServerOptionsError(`maxBodyBytes must be a positive number, got ${maxBodyBytes}.`);

  const bridge = new RedisBridge({ url: redisUrl, ...(log ? { log } : {}) });
  const stats: RedisRestStats = { requests: 0, commands: 0, pipelines: 0, transactions: 0 };
  const pathCommands = bridge.commandNames();
  const server = createServer(
    { keepAliveTimeout: 30_000 },
    createRequestHandler({ bridge, token, maxBodyBytes, stats, pathCommands }),
  );
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    else socket.destroy();
  });

  let boundPort: number;
  try {
    boundPort = await listen(server, port, host);
  } catch (error) {
    await bridge.close();
    throw error;
  }
  bridge.connect();
  await bridge.whenReady()?.catch(() => undefined);
  const url = baseUrl(host, boundPort);
  log?.(`Upstash Redis REST server listening on ${url}, bridged to Redis at ${bridge.displayUrl}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    token,
    port: boundPort,
    stats: () => ({ ...stats }),
    resetStats: () => {
      stats.requests = 0;
      stats.commands = 0;
      stats.pipelines = 0;
      stats.transactions = 0;
    },
    close: () => {
      closing ??= Promise.all([closeServer(server), bridge.close()]).then(() => undefined);
      return closing;
    },
  };
}
