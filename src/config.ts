import type { Client } from "@upstash/qstash";
import type { Redis } from "@upstash/redis";
import type { MemoryOption } from "./core/memory-tier.js";
import type { RefreshOptions } from "./options.js";
import type { RefreshQueue, SigningKeys } from "./queues/types.js";
import type { CacheStore } from "./stores/types.js";
import type { TelemetryOption } from "./telemetry/types.js";

export type { SigningKeys } from "./queues/types.js";

/** The instance defaults: refresh options every read and job starts from, and tags every entry carries. */
export interface InstanceDefaults extends RefreshOptions {
  /**
   * Tags every entry of the instance carries, on top of its job's or call's own.
   * @default []
   */
  tags?: readonly string[];
  /**
   * The memory tier for every read (see `FetchOptions.memory`); a job or a call can turn it off or
   * change it.
   * @default undefined (off)
   */
  memory?: MemoryOption;
}

/** Configuration of an explicit instance, made with `createCacheback(config)`. */
export interface CachebackConfig {
  /**
   * The Upstash Redis client entries live in. Ignored when `store` is given.
   * @default an in-memory store (one per process)
   */
  redis?: Redis;
  /**
   * A store of your own (see `CacheStore`); takes precedence over `redis`.
   * @default derived from `redis`
   */
  store?: CacheStore;
  /**
   * The QStash client refresh messages are published with. Ignored when `queue` is given.
   * @default a local in-process queue that delivers signed messages to `refreshUrl` over HTTP
   */
  qstash?: Client;
  /**
   * A queue of your own (see `RefreshQueue`); takes precedence over `qstash`.
   * @default derived from `qstash`
   */
  queue?: RefreshQueue;
  /**
   * Absolute URL of the refresh route (`createRefreshHandler`), where QStash delivers. Required in
   * production with QStash; never taken from a request's Host header.
   * @default process.env.CACHEBACK_REFRESH_URL, else (local queue, or outside production)
   *   `http://127.0.0.1:${PORT ?? 3000}/api/cacheback`
   */
  refreshUrl?: string;
  /**
   * Keys the refresh route verifies signatures with.
   * @default the queue's own keys (the local queue's), else QSTASH_CURRENT_SIGNING_KEY / QSTASH_NEXT_SIGNING_KEY
   */
  signingKeys?: SigningKeys;
  /**
   * Prefix of every Redis key this instance writes (entries under `<prefix>entry:`, locks under
   * `<prefix>lock:`, tag stamps under `<prefix>tag:`, the version clock at `<prefix>clock`).
   * Two apps sharing a database keep apart by prefix.
   * @default "cacheback:"
   */
  prefix?: string;
  /**
   * Defaults for every read and job of this instance (`lifetime`, `refreshTimeout`, `ttl`,
   * `fetchOnStaleThreshold`); per-call options win. `tags` are added to every entry's own.
   * @default {} (the library defaults)
   */
  defaults?: InstanceDefaults;
  /**
   * The longest `ttl` any entry may have, in seconds (a larger one is a `CachebackOptionsError`). Tag
   * stamps and the version clock live this long after their last use, so whatever tag invalidations
   * leave in Redis expires on its own.
   * @default 2592000 (30 days)
   */
  maxTtl?: number;
  /**
   * Bridges next-cacheback's tags with Next.js's cache: a tagged read inside a `'use cache'` scope
   * attaches its tags with `cacheTag`, and `revalidateTag` / `updateTag` of this instance also call
   * Next.js's. Off, only next-cacheback's entries are involved.
   * @default true
   */
  nextCache?: boolean;
  /**
   * Seconds a read waits on the store before giving up and calling the fetcher instead (fail open).
   * The official client alone retries a refused connection for about 4 s.
   * @default process.env.CACHEBACK_READ_TIMEOUT, else 1
   */
  readTimeout?: number;
  /**
   * Seconds a background write or lock may take before it is reported as failed.
   * @default 10
   */
  backgroundTimeout?: number;
  /**
   * Seconds a publish to the queue may take before it counts as failed: the longest a failing queue keeps
   * a request's background work (and a serverless function) busy. The QStash client made from the
   * environment also retries a refused connection once only.
   * @default 3
   */
  publishTimeout?: number;
  /**
   * When publishing a refresh fails (refused, timed out, 5xx, 429, out of quota), the instance that holds
   * the refresh lock runs the refresh itself, in the background, under the same lock and compare-and-set
   * (`true`); or it releases the lock and the entry stays stale until a later read publishes (`false`).
   * @default true
   */
  queueFallback?: boolean;
  /**
   * After a failed publish, this process leaves the queue alone for `initial` seconds, doubling on each
   * failure up to `max`; refreshes meanwhile go to `queueFallback`. A publish that works ends it.
   * @default { initial: 1, max: 30 }
   */
  publishBackoff?: { initial?: number; max?: number };
  /**
   * Milliseconds during which the refreshes this process requests are collected into one queue message
   * (one render's stale reads queue their refreshes together, after the response). `0` publishes each at
   * once, as a single-refresh message.
   * @default 10
   */
  batchWindow?: number;
  /**
   * Most refreshes one message carries (a message also stays under 900 kB of JSON, below QStash's 1 MB).
   * @default 100
   */
  batchSize?: number;
  /**
   * The clock, in milliseconds since the epoch. Tests pass a controlled one.
   * @default Date.now
   */
  now?: () => number;
  /**
   * OpenTelemetry. When `@opentelemetry/api` can be loaded (an optional peer dependency; inside Next.js
   * it always can) and a tracer provider is registered, every read, publish and refresh is a span
   * (`cacheback.read`, `cacheback.publish`, `cacheback.refresh`, `cacheback.delivery`) and refresh
   * messages carry the read's trace context; with a meter provider, reads, refreshes and job durations
   * are counted (`cacheback.reads`, `cacheback.refreshes`, `cacheback.job.duration`...). The providers
   * are looked for when the instance is made, asynchronously: when one is registered already, the
   * instance's first reads wait the few ms that takes; one registered later is found 1 s or 10 s after
   * the instance was made (reads before that are untraced). Without a provider a read pays two property checks.
   * `false` turns it off; `{ recordArgs: true }` puts the arguments of reads and refreshes on their spans.
   * @default {} (on when a provider is registered, without arguments)
   */
  telemetry?: TelemetryOption;
  /**
   * Logs every event to the console. Also on when the `CACHEBACK_DEBUG` env var is set.
   * @default false
   */
  debug?: boolean;
  /**
   * Runs work that must not delay the response (lock, publish, write-back).
   * @default Next.js `after()` inside a request, a detached promise outside one
   */
  runInBackground?: (task: () => Promise<unknown>) => Promise<void>;
  /**
   * Whether this is production (where a missing refresh URL is an error, not a localhost guess).
   * @default process.env.NODE_ENV === "production"
   */
  production?: boolean;
}
