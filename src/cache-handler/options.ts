import type { Redis } from "@upstash/redis";
import { CachebackOptionsError } from "../errors.js";
import { MemoryStore } from "../stores/memory.js";
import { handlerEnvSettings } from "../setup/env.js";
import { VersionClock } from "../version-clock.js";
import { MemoryHandlerStore } from "./memory-store.js";
import type { HandlerStore } from "./store.js";
import type { CacheHandlerEvent, CacheHandlerOptions } from "./types.js";
import { UpstashHandlerStore } from "./upstash-store.js";

/** Next.js keeps entries at least this long under `next dev` (`MIN_PRERENDERABLE_EXPIRE`), in seconds. */
const DEV_MIN_EXPIRE = 300;

/** Everything a handler needs, resolved: nothing left to default or to read from the environment. */
export interface HandlerSettings {
  store: HandlerStore;
  prefix: string;
  readTimeoutMs: number;
  writeTimeoutMs: number;
  lockTtlMs: number;
  maxTtlMs: number;
  maxEntrySize: number;
  /** 0 in production; 300 under `next dev`. */
  minExpireS: number;
  /** `next dev`: `expire: 0` entries are stored, as Next.js's default handler stores them there. */
  devServer: boolean;
  now: () => number;
  versions: VersionClock;
  onEvent: ((event: CacheHandlerEvent) => void) | undefined;
  debug: boolean;
}

/** Next.js's clock: entries' `timestamp` and its staleness checks use it. */
const nextClock = (): number => performance.timeOrigin + performance.now();

function seconds(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new CachebackOptionsError(`createCacheHandler: ${name} must be a positive finite number of seconds, got ${String(value)}`);
  }
  return value;
}

/** The store for the options: Upstash for a Redis client, else entries in memory and stamps in `store`. */
function storeFor(redis: Redis | undefined, options: CacheHandlerOptions, now: () => number): HandlerStore {
  if (redis) return new UpstashHandlerStore(redis);
  return new MemoryHandlerStore(options.store ?? new MemoryStore(), now);
}

/**
 * Resolves `createCacheHandler`'s options over the environment (`CACHEBACK_READ_TIMEOUT`, `CACHEBACK_DEBUG`,
 * `next dev`) and the defaults.
 * @throws CachebackOptionsError when a value is out of range.
 */
export function resolveHandlerOptions(options: CacheHandlerOptions = {}): HandlerSettings {
  const env = handlerEnvSettings();
  const now = options.now ?? nextClock;
  const maxEntrySize = options.maxEntrySize ?? 7 * 1024 * 1024;
  if (!Number.isSafeInteger(maxEntrySize) || maxEntrySize <= 0) {
    throw new CachebackOptionsError(`createCacheHandler: maxEntrySize must be a positive whole number of bytes, got ${String(maxEntrySize)}`);
  }
  return {
    store: storeFor(options.redis, options, now),
    prefix: options.prefix ?? "cacheback:",
    readTimeoutMs: seconds("readTimeout", options.readTimeout, env.readTimeout ?? 1) * 1000,
    writeTimeoutMs: seconds("writeTimeout", options.writeTimeout, 10) * 1000,
    lockTtlMs: seconds("lockTimeout", options.lockTimeout, 30) * 1000,
    maxTtlMs: seconds("maxTtl", options.maxTtl, 30 * 24 * 60 * 60) * 1000,
    maxEntrySize,
    minExpireS: env.devServer ? DEV_MIN_EXPIRE : 0,
    devServer: env.devServer,
    now,
    versions: new VersionClock(now),
    onEvent: options.onEvent,
    debug: options.debug ?? env.debug,
  };
}
