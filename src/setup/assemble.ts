import type { CachebackConfig } from "../config.js";
import type { CoreParts } from "../core/context.js";
import { burstClock } from "../burst-clock.js";
import { resolveMemory } from "../core/memory-tier.js";
import { maxTtlDefault, withinMaxTtl } from "../core/settings.js";
import { resolveRefreshOptions } from "../options.js";
import { CachebackOptionsError } from "../errors.js";
import { attachCacheTags } from "../next/cache-tags.js";
import { LocalQueue } from "../queues/local.js";
import { QStashQueue } from "../queues/qstash.js";
import type { RefreshQueue } from "../queues/types.js";
import { runInBackground } from "../background.js";
import { insideNext } from "../runtime.js";
import { MemoryStore } from "../stores/memory.js";
import type { CacheStore } from "../stores/types.js";
import { UpstashStore } from "../stores/upstash.js";
import { encodeTags } from "../tags/tags.js";
import { processVersionClock, VersionClock } from "../version-clock.js";
import { envSettings } from "./env.js";

const DEFAULT_PREFIX = "cacheback:";
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** 30 days, in seconds: the default `maxTtl` (and the default `ttl`). */
const DEFAULT_MAX_TTL = 30 * 24 * 60 * 60;

/** A whole number within bounds, or a CachebackOptionsError naming the setting. */
function whole(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new CachebackOptionsError(`${name} must be a whole number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** A positive finite number of seconds, or a CachebackOptionsError naming the setting. */
function seconds(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new CachebackOptionsError(`${name} must be a positive finite number of seconds, got ${String(value)}`);
  }
  return value;
}

/**
 * Turns a configuration into the core's parts: the store and the queue it names (an Upstash store for a
 * Redis client, a QStash queue for a QStash client, the in-process defaults otherwise) and the settings,
 * with what the configuration leaves open taken from the environment.
 * @throws CachebackOptionsError when the defaults are out of range.
 */
export function assemble(config: CachebackConfig = {}): CoreParts {
  const store: CacheStore = config.store ?? (config.redis ? new UpstashStore(config.redis) : new MemoryStore({ now: config.now }));
  const queue: RefreshQueue = config.queue ?? (config.qstash ? new QStashQueue(config.qstash) : new LocalQueue());
  const env = envSettings();
  const now = config.now ?? Date.now;
  const maxTtlMs = seconds("maxTtl", config.maxTtl ?? DEFAULT_MAX_TTL) * 1000;
  return {
    store,
    queue,
    settings: {
      prefix: config.prefix ?? DEFAULT_PREFIX,
      defaults: config.defaults,
      defaultMemory: resolveMemory(config.defaults?.memory),
      resolvedDefaults: withinMaxTtl(resolveRefreshOptions(maxTtlDefault(maxTtlMs), config.defaults), maxTtlMs), // fails fast on bad defaults
      readTimeoutMs: (config.readTimeout ?? env.readTimeout ?? 1) * 1000,
      backgroundTimeoutMs: (config.backgroundTimeout ?? 10) * 1000,
      now,
      hitNow: config.now ?? burstClock(() => Date.now()),
      versions: config.now ? new VersionClock(config.now) : processVersionClock(),
      runInBackground: config.runInBackground ?? runInBackground,
      requestMemo: insideNext(),
      debug: config.debug ?? env.debug,
      refreshUrl: config.refreshUrl ?? env.refreshUrl ?? (queue.deliversLocally ? env.localRefreshUrl : undefined),
      localRefreshUrl: env.localRefreshUrl,
      production: config.production ?? env.production,
      // The queue's own keys (the local queue signs its deliveries) win over QStash's from the environment.
      signingKeys: config.signingKeys ?? queue.signingKeys ?? env.signingKeys,
      maxTtlMs,
      defaultTags: Object.freeze(encodeTags(config.defaults?.tags ?? [], "defaults.tags")),
      onTaggedRead: config.nextCache === false ? undefined : attachCacheTags,
      queueFallback: config.queueFallback ?? true,
      publishTimeoutMs: seconds("publishTimeout", config.publishTimeout ?? 3) * 1000,
      publishBackoff: {
        initialMs: seconds("publishBackoff.initial", config.publishBackoff?.initial ?? 1) * 1000,
        maxMs: seconds("publishBackoff.max", config.publishBackoff?.max ?? 30) * 1000,
      },
      // A completed refresh is remembered past the queue's last possible redelivery (and at least an hour).
      completionTtlMs: Math.max(HOUR_MS, (queue.retryHorizonMs ?? DAY_MS) + HOUR_MS),
      batchWindowMs: whole("batchWindow", config.batchWindow ?? 10, 0, 60_000),
      batchSize: whole("batchSize", config.batchSize ?? 100, 1, 500), // a batch carries at most 500 (message.ts)
      telemetry: config.telemetry,
    },
  };
}
