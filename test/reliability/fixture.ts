import { Client } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import { Cacheback } from "../../src/cacheback.js";
import type { CachebackConfig } from "../../src/config.js";
import { devServersEnv, startQStashServer, startRedisRestServer, type QStashServer, type QStashServerOptions, type RedisRestServer } from "../../packages/dev/src/index.js";
import type { CachebackEvent } from "../../src/events.js";
import { serveFetch, type ServedHandler } from "../helpers/serve-fetch.js";
import { randomPrefix } from "../helpers/wait.js";

/** The refresh route path every reliability app serves. */
export const ROUTE = "/api/cacheback";

/**
 * A whole deployment on the machine: a Redis REST server (on the shared redis-server unless a URL is
 * given), the QStash server, and an "app" serving refresh routes over HTTP.
 */
export interface Stack {
  rest: RedisRestServer;
  qstash: QStashServer;
  app: ServedHandler;
  /** The refresh URL of the app (what messages are published to). */
  refreshUrl: string;
  /** Sets what the app's refresh route runs. */
  route(handler: (request: Request) => Promise<Response>): void;
  /** An official Redis client on the REST server (or `url`). */
  redisClient(url?: string): Redis;
  /** An official QStash client on the QStash server (or `baseUrl`). */
  qstashClient(baseUrl?: string, retry?: false | { retries: number; backoff: (n: number) => number }): Client;
  /** An instance on this stack with a random prefix; `overrides` win. */
  instance(overrides?: Partial<CachebackConfig>): Cacheback;
  /** The env lines an app process needs to use this stack (`UPSTASH_REDIS_REST_*`, `QSTASH_*`). */
  appEnv(): Record<string, string>;
  /** The deliveries the QStash server logged whose body mentions `fragment`. */
  messagesAbout(fragment: string): ReturnType<QStashServer["engine"]["messages"]>;
  close(): Promise<void>;
}

/** Starts a {@link Stack} on ephemeral ports. */
export async function startStack(options: { redisUrl?: string; label?: string; qstash?: Omit<QStashServerOptions, "port"> } = {}): Promise<Stack> {
  const rest = await startRedisRestServer({ port: 0, ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}) });
  const qstash = await startQStashServer({ port: 0, retryDelayScale: 0.001, ...options.qstash });
  let handler: (request: Request) => Promise<Response> = async () => new Response("no route yet", { status: 503 });
  const app = await serveFetch({ [ROUTE]: (request) => handler(request) });
  const refreshUrl = `${app.origin}${ROUTE}`;
  const redisClient = (url = rest.url) => new Redis({ url, token: rest.token });
  const qstashClient: Stack["qstashClient"] = (baseUrl = qstash.url, retry) =>
    new Client({ baseUrl, token: qstash.token, ...(retry === undefined ? {} : { retry }) });
  return {
    rest,
    qstash,
    app,
    refreshUrl,
    route: (h) => void (handler = h),
    redisClient,
    qstashClient,
    instance: (overrides = {}) =>
      new Cacheback({
        redis: redisClient(),
        qstash: qstashClient(),
        refreshUrl,
        signingKeys: { current: qstash.currentSigningKey, next: qstash.nextSigningKey },
        prefix: randomPrefix(options.label ?? "rel"),
        ...overrides,
      }),
    appEnv: () => devServersEnv(rest, qstash),
    messagesAbout: (fragment) => qstash.engine.messages().filter((m) => m.body?.includes(fragment)),
    close: async () => {
      await app.close();
      await Promise.all([rest.close(), qstash.close()]);
    },
  };
}

/** Collects an instance's events. */
export function recordEvents(cb: Cacheback): CachebackEvent[] {
  const events: CachebackEvent[] = [];
  cb.on("*", (e) => events.push(e));
  return events;
}

/** The `error` events of `events` for one operation. */
export function errorsOf(events: CachebackEvent[], operation: string): CachebackEvent[] {
  return events.filter((e) => e.type === "error" && e.operation === operation);
}

/** Runs `read` and returns its outcome with how long it took, in ms. */
export async function timed<T>(read: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await read();
  return { result, ms: performance.now() - started };
}
