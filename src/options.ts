import { CachebackOptionsError } from "./errors.js";
import type { Serializer } from "./serializer.js";
import type { MemoryOption } from "./core/memory-tier.js";
import type { TagsOption } from "./tags/tags.js";

/**
 * How one cached job behaves. Durations are in seconds (fractions allowed).
 * The names follow django-cacheback's `Job` attributes (shown in brackets).
 */
export interface RefreshOptions {
  /**
   * Seconds after a write during which the entry is fresh. Past it the entry is stale: it is still
   * served, and one background refresh is queued. (`lifetime`)
   * @default 600
   */
  lifetime?: number;
  /**
   * Seconds during which no second refresh is queued for one entry, across every instance (the refresh
   * lock's expiry). Also the longest a refresh may run in the refresh route. (`refresh_timeout`)
   * @default 60
   */
  refreshTimeout?: number;
  /**
   * Seconds after a write before the entry is removed from the store altogether; a read after that is a
   * miss. Must be at least `lifetime`. (`cache_ttl`)
   * @default 2592000 (30 days)
   */
  ttl?: number;
  /**
   * An entry older than this many seconds is not served stale: the read refreshes it synchronously and
   * returns the new value. Unset means a stale entry is always served as is.
   * (`fetch_on_stale_threshold`)
   * @default undefined (never refresh synchronously)
   */
  fetchOnStaleThreshold?: number;
}

/** Options of one read (or of a job), on top of the instance defaults. */
export interface FetchOptions<T = unknown, E = unknown> extends RefreshOptions {
  /**
   * On a miss: `true` calls the fetcher synchronously (once per key per process, however many readers
   * arrive together) and returns its value; `false` returns `empty` at once and queues a background
   * refresh. (`fetch_on_miss`)
   * @default true
   */
  fetchOnMiss?: boolean;
  /**
   * What a miss returns when `fetchOnMiss` is `false`. (`empty()`)
   * @default null
   */
  empty?: E;
  /**
   * Turns values into JSON-compatible data and back. The default accepts plain JSON values only and
   * names the key and the path of anything JSON would not carry faithfully (a `Date`, `BigInt`, `Map`,
   * a function, a cycle). Pass `superjson` (`{ serialize, deserialize }`) to store richer values.
   * @default jsonSerializer
   */
  serializer?: Serializer<T>;
  /**
   * Tags the entry carries, on top of the instance's default tags: a list, or (on a job) a function of
   * the job's arguments returning one. `revalidateTag(tag)` makes every entry carrying `tag` stale,
   * `updateTag(tag)` expires it, in every instance; inside a `'use cache'` scope the tags are also
   * attached to the enclosing Next.js cache entry. A tag is non-empty text of at most 256 characters; an
   * entry carries at most 64.
   * @default [] (plus the instance's default tags)
   */
  tags?: TagsOption<never[]>;
  /**
   * Keeps a copy of fresh entries in this process's memory for `memory.lifetime` seconds: a read that finds
   * one costs no Redis command. This process's own writes and invalidations take effect in its memory at
   * once; other instances' reach it within `memory.lifetime` at most. A copy serves only while its entry is
   * fresh; anything else is read from Redis. `false` turns an instance default off.
   * @default undefined (off; or the instance's `defaults.memory`)
   */
  memory?: MemoryOption | false;
}

/** The refresh options with every default filled in, in seconds. */
export interface ResolvedRefreshOptions {
  lifetime: number;
  refreshTimeout: number;
  ttl: number;
  fetchOnStaleThreshold: number | undefined;
}

/** Defaults of {@link RefreshOptions}. */
export const DEFAULT_REFRESH_OPTIONS: Readonly<ResolvedRefreshOptions> = Object.freeze({
  lifetime: 600,
  refreshTimeout: 60,
  ttl: 30 * 24 * 60 * 60,
  fetchOnStaleThreshold: undefined,
});

function checkSeconds(name: string, value: unknown, { allowZero }: { allowZero: boolean }): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new CachebackOptionsError(
      `${name} must be a ${allowZero ? "non-negative" : "positive"} finite number of seconds, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Merges per-call options over instance defaults over {@link DEFAULT_REFRESH_OPTIONS} and checks them.
 * @throws CachebackOptionsError when a value is out of range.
 */
export function resolveRefreshOptions(...layers: (RefreshOptions | undefined)[]): ResolvedRefreshOptions {
  const merged: ResolvedRefreshOptions = { ...DEFAULT_REFRESH_OPTIONS };
  for (const layer of layers) {
    if (!layer) continue;
    if (layer.lifetime !== undefined) merged.lifetime = layer.lifetime;
    if (layer.refreshTimeout !== undefined) merged.refreshTimeout = layer.refreshTimeout;
    if (layer.ttl !== undefined) merged.ttl = layer.ttl;
    if (layer.fetchOnStaleThreshold !== undefined) merged.fetchOnStaleThreshold = layer.fetchOnStaleThreshold;
  }
  checkSeconds("lifetime", merged.lifetime, { allowZero: true });
  checkSeconds("refreshTimeout", merged.refreshTimeout, { allowZero: false });
  checkSeconds("ttl", merged.ttl, { allowZero: false });
  if (merged.fetchOnStaleThreshold !== undefined) {
    checkSeconds("fetchOnStaleThreshold", merged.fetchOnStaleThreshold, { allowZero: true });
  }
  if (merged.ttl < merged.lifetime) {
    throw new CachebackOptionsError(
      `ttl (${merged.ttl} s) must be at least lifetime (${merged.lifetime} s): an entry removed before it turns stale is never served stale`,
    );
  }
  return merged;
}
