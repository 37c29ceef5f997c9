import { Client } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import type { CachebackConfig } from "../config.js";
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY, QSTASH_DEV_TOKEN } from "../qstash/dev-credentials.js";
import type { SigningKeys } from "../queues/types.js";
import type { CacheStore } from "../stores/types.js";
import { embeddedStore } from "./embedded-store.js";

/**
 * The one place next-cacheback reads the environment. Everything below `core/` is given what it needs.
 */

/** Reads an env var where `process` exists (Node.js, Next.js Edge); `undefined` elsewhere or when empty. */
export function envVar(name: string): string | undefined {
  const value = typeof process === "undefined" ? undefined : process.env?.[name];
  return value === undefined || value === "" ? undefined : value;
}

/** What an instance takes from the environment when its configuration leaves it open. */
export interface EnvSettings {
  /** `CACHEBACK_REFRESH_URL` */
  refreshUrl: string | undefined;
  /** `QSTASH_CURRENT_SIGNING_KEY` / `QSTASH_NEXT_SIGNING_KEY` (the dev keys with `QSTASH_DEV=true`). */
  signingKeys: SigningKeys | undefined;
  /** `CACHEBACK_DEBUG` is set. */
  debug: boolean;
  /** `NODE_ENV === "production"` */
  production: boolean;
  /** The refresh route on this host: `http://127.0.0.1:${PORT ?? 3000}/api/cacheback`. */
  localRefreshUrl: string;
  /** `CACHEBACK_READ_TIMEOUT`, in seconds, when it is a positive number. */
  readTimeout: number | undefined;
}

function positiveNumber(name: string): number | undefined {
  const raw = envVar(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (Number.isFinite(value) && value > 0) return value;
  console.warn(`[next-cacheback] ${name}=${JSON.stringify(raw)} is not a positive number of seconds; it is ignored.`);
  return undefined;
}

function qstashDev(): boolean {
  const flag = envVar("QSTASH_DEV");
  return flag === "true" || flag === "1";
}

/** Reads the settings an instance may take from the environment. */
export function envSettings(): EnvSettings {
  const dev = qstashDev();
  const current = envVar("QSTASH_CURRENT_SIGNING_KEY") ?? (dev ? QSTASH_DEV_CURRENT_SIGNING_KEY : undefined);
  const next = envVar("QSTASH_NEXT_SIGNING_KEY") ?? (dev ? QSTASH_DEV_NEXT_SIGNING_KEY : undefined);
  return {
    refreshUrl: envVar("CACHEBACK_REFRESH_URL"),
    signingKeys: current && next ? { current, next } : undefined,
    debug: envVar("CACHEBACK_DEBUG") !== undefined,
    production: envVar("NODE_ENV") === "production",
    localRefreshUrl: `http://127.0.0.1:${envVar("PORT") ?? "3000"}/api/cacheback`,
    readTimeout: positiveNumber("CACHEBACK_READ_TIMEOUT"),
  };
}

/**
 * The Upstash Redis client the environment names: `UPSTASH_REDIS_REST_URL` / `UPSTASH_REDIS_REST_TOKEN`,
 * or Vercel KV's `KV_REST_API_URL` / `KV_REST_API_TOKEN`; `undefined` when either half is missing.
 */
export function redisFromEnv(): Redis | undefined {
  const url = envVar("UPSTASH_REDIS_REST_URL") ?? envVar("KV_REST_API_URL");
  const token = envVar("UPSTASH_REDIS_REST_TOKEN") ?? envVar("KV_REST_API_TOKEN");
  return url && token ? new Redis({ url, token }) : undefined;
}

/** Which backends the environment selects for the default instance. */
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
 * `QSTASH_TOKEN` (+ `QSTASH_URL`, or `QSTASH_DEV=true`), `CACHEBACK_PREFIX`; the refresh URL and the
 * signing keys come from {@link envSettings}.
 */
export function setupFromEnv(): EnvSetup {
  const redis = redisFromEnv();
  const qstashToken = envVar("QSTASH_TOKEN") ?? (qstashDev() ? QSTASH_DEV_TOKEN : undefined);
  const env = envSettings();

  const config: CachebackConfig = {
    prefix: envVar("CACHEBACK_PREFIX"),
    redis,
    // Without Redis, the process-wide memory store the cache handler shares (one tag namespace).
    store: redis ? undefined : embeddedStore(),
    // One retry of a refused connection, 250 ms later (the client's default is five, over seconds): a
    // failing publish must not keep a function busy; the instance refreshes in process instead.
    qstash: qstashToken ? new Client({ token: qstashToken, baseUrl: envVar("QSTASH_URL"), retry: { retries: 1, backoff: () => 250 } }) : undefined,
  };

  if (config.redis && config.qstash) return { config, mode: "upstash", notice: undefined, warn: false };
  if (!config.redis && !config.qstash) {
    return {
      config,
      mode: "embedded",
      warn: env.production,
      notice: env.production
        ? "[next-cacheback] WARNING: running in production on the embedded default. Each server instance has its own " +
          "in-memory cache and its own in-process refresh queue: nothing is shared between instances, and a refresh " +
          "queued by a function that is then frozen is lost. Set UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, " +
          "QSTASH_TOKEN, QSTASH_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY and CACHEBACK_REFRESH_URL."
        : `[next-cacheback] No Upstash credentials found: using the embedded default (in-memory cache, in-process refresh ` +
          `queue delivering signed messages to ${env.refreshUrl ?? env.localRefreshUrl}). Run \`npx next-cacheback dev\` ` +
          `and paste its env lines to develop against Upstash-compatible servers instead.`,
    };
  }
  const missing = config.redis
    ? "QSTASH_TOKEN is not set: refreshes run on an in-process queue (lost if the instance is frozen)."
    : "UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN are not set: the cache is in memory, one per instance.";
  return { config, mode: "partial", warn: true, notice: `[next-cacheback] WARNING: ${missing}` };
}

/** What the cache handler (`next-cacheback/cache-handler`) takes from the environment. */
export interface HandlerEnv {
  /** `CACHEBACK_READ_TIMEOUT`, in seconds, when it is a positive number. */
  readTimeout: number | undefined;
  /** `CACHEBACK_DEBUG` is set. */
  debug: boolean;
  /** `NODE_ENV === "production"` */
  production: boolean;
  /** `NEXT_PHASE === "phase-production-build"`: `next build` is loading the handler. */
  building: boolean;
  /** `__NEXT_DEV_SERVER` is set: `next dev`, where Next.js keeps short-lived entries and `expire: 0` ones. */
  devServer: boolean;
}

/** Reads the settings a cache handler may take from the environment (no client is made). */
export function handlerEnvSettings(): HandlerEnv {
  return {
    readTimeout: positiveNumber("CACHEBACK_READ_TIMEOUT"),
    debug: envVar("CACHEBACK_DEBUG") !== undefined,
    production: envVar("NODE_ENV") === "production",
    building: envVar("NEXT_PHASE") === "phase-production-build",
    devServer: envVar("__NEXT_DEV_SERVER") !== undefined,
  };
}

/** Where the default cache handler keeps its entries, from the environment. */
export interface HandlerSetup {
  /** The Redis client of {@link redisFromEnv}; `undefined` on the embedded default. */
  redis: Redis | undefined;
  /** Without Redis: the process-wide memory store the default instance uses too (one tag namespace). */
  store: CacheStore | undefined;
  /** `CACHEBACK_PREFIX` */
  prefix: string | undefined;
  /** What to tell the developer once, at first use (the embedded default only). */
  notice: string | undefined;
  /** Whether the notice is a warning (production, outside `next build`). */
  warn: boolean;
}

/**
 * Reads the configuration of the default cache handler: the same Redis variables and prefix as the
 * default instance. A missing Redis is not an error (`next build` loads the handler too, often without
 * credentials): it runs on the embedded default, and says so once.
 */
export function handlerSetupFromEnv(): HandlerSetup {
  const redis = redisFromEnv();
  const prefix = envVar("CACHEBACK_PREFIX");
  if (redis) return { redis, store: undefined, prefix, notice: undefined, warn: false };
  const env = handlerEnvSettings();
  const where = "'use cache: remote' entries are kept in this process's memory";
  const names = "UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (or KV_REST_API_URL and KV_REST_API_TOKEN)";
  let notice: string;
  if (env.building) {
    notice = `[next-cacheback] cache handler: no Upstash credentials at build time (${names}): ${where} during the build only.`;
  } else if (env.production) {
    notice =
      `[next-cacheback] WARNING: the cache handler runs in production on the embedded default: ${where}, one copy per ` +
      `server instance, and nothing is shared between instances. Set ${names}.`;
  } else {
    notice =
      `[next-cacheback] cache handler: no Upstash credentials found: ${where}, sharing tags with next-cacheback's ` +
      `embedded default. Run \`npx next-cacheback dev\` and paste its env lines to use Redis instead.`;
  }
  return { redis: undefined, store: embeddedStore(), prefix, notice, warn: env.production && !env.building };
}
