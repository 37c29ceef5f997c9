import { Client } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import { Cacheback } from "./cacheback.js";
import { envVar, type CachebackConfig } from "./config.js";
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY, QSTASH_DEV_TOKEN } from "./qstash/dev-credentials.js";

const SLOT = Symbol.for("next-cacheback.default-instance");
type Slot = { instance?: Cacheback };

// One default instance per process, even when a bundler loads this module more than once (Next.js
// bundles pages and route handlers separately): the embedded default's memory store and local queue
// must be shared by the page that queues a refresh and the route that runs it.
function slot(): Slot {
  const g = globalThis as unknown as Record<symbol, Slot | undefined>;
  return (g[SLOT] ??= {});
}

/** Which backends the environment selects. */
export interface EnvSetup {
  config: CachebackConfig;
  /** `upstash`: Redis and QStash; `embedded`: neither; `partial`: one of them. */
  mode: "upstash" | "embedded" | "partial";
  /** What to tell the developer once. */
  notice: string | undefined;
  /** Whether the notice is a warning (production). */
  warn: boolean;
}

/**
 * Reads the configuration of the default instance from the environment:
 * `UPSTASH_REDIS_REST_URL` / `UPSTASH_REDIS_REST_TOKEN` (or `KV_REST_API_URL` / `KV_REST_API_TOKEN`),
 * `QSTASH_TOKEN` (+ `QSTASH_URL`, or `QSTASH_DEV=true`), `QSTASH_CURRENT_SIGNING_KEY` /
 * `QSTASH_NEXT_SIGNING_KEY`, `CACHEBACK_REFRESH_URL`, `CACHEBACK_PREFIX`.
 */
export function setupFromEnv(): EnvSetup {
  const url = envVar("UPSTASH_REDIS_REST_URL") ?? envVar("KV_REST_API_URL");
  const token = envVar("UPSTASH_REDIS_REST_TOKEN") ?? envVar("KV_REST_API_TOKEN");
  const qstashDev = envVar("QSTASH_DEV") === "true" || envVar("QSTASH_DEV") === "1";
  const qstashToken = envVar("QSTASH_TOKEN") ?? (qstashDev ? QSTASH_DEV_TOKEN : undefined);
  const production = envVar("NODE_ENV") === "production";
  const current = envVar("QSTASH_CURRENT_SIGNING_KEY") ?? (qstashDev ? QSTASH_DEV_CURRENT_SIGNING_KEY : undefined);
  const next = envVar("QSTASH_NEXT_SIGNING_KEY") ?? (qstashDev ? QSTASH_DEV_NEXT_SIGNING_KEY : undefined);

  const config: CachebackConfig = {
    prefix: envVar("CACHEBACK_PREFIX"),
    refreshUrl: envVar("CACHEBACK_REFRESH_URL"),
    redis: url && token ? new Redis({ url, token }) : undefined,
    qstash: qstashToken ? new Client({ token: qstashToken, baseUrl: envVar("QSTASH_URL") }) : undefined,
    signingKeys: current && next ? { current, next } : undefined,
  };

  if (config.redis && config.qstash) return { config, mode: "upstash", notice: undefined, warn: false };
  if (!config.redis && !config.qstash) {
    const where = `http://127.0.0.1:${envVar("PORT") ?? "3000"}/api/cacheback`;
    return {
      config,
      mode: "embedded",
      warn: production,
      notice: production
        ? "[next-cacheback] WARNING: running in production on the embedded default. Each server instance has its own " +
          "in-memory cache and its own in-process refresh queue: nothing is shared between instances, and a refresh " +
          "queued by a function that is then frozen is lost. Set UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, " +
          "QSTASH_TOKEN, QSTASH_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY and CACHEBACK_REFRESH_URL."
        : `[next-cacheback] No Upstash credentials found: using the embedded default (in-memory cache, in-process refresh ` +
          `queue delivering signed messages to ${envVar("CACHEBACK_REFRESH_URL") ?? where}). Run \`npx next-cacheback dev\` ` +
          `and paste its env lines to develop against Upstash-compatible servers instead.`,
    };
  }
  const missing = config.redis
    ? "QSTASH_TOKEN is not set: refreshes run on an in-process queue (lost if the instance is frozen)."
    : "UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN are not set: the cache is in memory, one per instance.";
  return { config, mode: "partial", warn: true, notice: `[next-cacheback] WARNING: ${missing}` };
}

/** The default instance, made from the environment on first use and shared by the whole process. */
export function defaultCacheback(): Cacheback {
  const s = slot();
  if (s.instance) return s.instance;
  const setup = setupFromEnv();
  s.instance = new Cacheback(setup.config);
  if (setup.notice) (setup.warn ? console.warn : console.info)(setup.notice);
  return s.instance;
}

/**
 * Replaces the default instance the top-level functions use (`cachebackFetch`, `defineJob`,
 * `createRefreshHandler`...). Pass an instance or a config; pass nothing to go back to the environment.
 */
export function setDefaultCacheback(instanceOrConfig?: Cacheback | CachebackConfig): Cacheback | undefined {
  const s = slot();
  s.instance = instanceOrConfig === undefined ? undefined : instanceOrConfig instanceof Cacheback ? instanceOrConfig : new Cacheback(instanceOrConfig);
  return s.instance;
}
