import type { Redis } from "@upstash/redis";
import type { CacheStore } from "../stores/types.js";

/**
 * Next.js's cache-handler contract (`next/dist/server/lib/cache-handlers/types.d.ts`, Next.js 16),
 * restated here so that the package's types do not depend on a file inside `next/dist`. A handler
 * made by `createCacheHandler` is assignable to Next.js's own `CacheHandler`.
 */

/** One entry as Next.js hands it to `set` and expects it back from `get`. Durations are in seconds. */
export interface CacheEntry {
  /** The serialized value: a new stream from every `get`; consumed once in `set`, never kept. */
  value: ReadableStream<Uint8Array>;
  /** The tags of the entry (`cacheTag`), without the soft tags. */
  tags: string[];
  /** For the client router only. */
  stale: number;
  /** When the entry was created, ms since the epoch (Next.js's `performance.timeOrigin + performance.now()`). */
  timestamp: number;
  /** Past it the entry is a miss. */
  expire: number;
  /** Past it the entry is served and regenerated in the background; negative: regenerate on this read. */
  revalidate: number;
}

/** The handler object Next.js loads from `cacheHandlers` in `next.config`. */
export interface CacheHandler {
  get(cacheKey: string, softTags: string[]): Promise<undefined | CacheEntry>;
  set(cacheKey: string, pendingEntry: Promise<CacheEntry>): Promise<void>;
  refreshTags(): Promise<void>;
  getExpiration(tags: string[]): Promise<number>;
  updateTags(tags: string[], durations?: { expire?: number }): Promise<void>;
}

/** Why a `get` answered a miss (Next.js then renders the entry afresh). */
export type MissReason =
  /** Nothing stored under the key. */
  | "absent"
  /** Something that is not a handler entry is stored there (it is replaced by the next `set`). */
  | "unreadable"
  /** The entry was stored with a negative `expire` (Next.js's eviction sentinel). */
  | "evicted"
  /** Past `timestamp + expire`. */
  | "expired"
  /** One of its tags, or of the soft tags, was expired after the entry's data was taken (`tag` names it). */
  | "tag-expired"
  /** Redis failed or did not answer within `readTimeout`. */
  | "store-error";

/** What a handler reports. Subscribe with `createCacheHandler({ onEvent })`. */
export type CacheHandlerEvent =
  /** An entry within its `revalidate` was served. */
  | { type: "hit"; key: string }
  /**
   * An entry past its `revalidate`, or made stale by a tag (`tag`), was served. `regenerate`: this
   * instance won the shared lock and Next.js regenerates the entry here; otherwise it was presented as
   * still within its `revalidate`, and another instance regenerates it.
   */
  | { type: "stale"; key: string; regenerate: boolean; reason: "revalidate" | "tag"; tag?: string }
  /** No usable entry. */
  | { type: "miss"; key: string; reason: MissReason; tag?: string }
  /** An entry was stored (`written`), or not because a newer one was there already. */
  | { type: "set"; key: string; bytes: number; written: boolean; version: number }
  /**
   * An entry was not stored: `dynamic` (`expire: 0` outside `next dev`: never served back), `too-large`
   * (over `maxEntrySize`), `stream-error` (its stream failed: partial data is dropped), `expired`
   * (already past its `expire`), `evicted` (a negative `expire`: the stored entry was removed).
   */
  | { type: "set-skipped"; key: string; reason: "dynamic" | "too-large" | "stream-error" | "expired" | "evicted"; bytes?: number; error?: unknown }
  /**
   * `updateTags` stamped `tags` at `version` of the shared clock; `skipped` are the tags next-cacheback had
   * stamped itself just before asking Next.js to revalidate them.
   */
  | { type: "tags-updated"; tags: string[]; skipped: string[]; version: number | undefined }
  /** Redis failed (or did not answer in time) during `operation`. */
  | { type: "error"; operation: "get" | "set" | "updateTags"; key?: string; tags?: string[]; error: unknown };

/** Options of `createCacheHandler`. Durations are in seconds. */
export interface CacheHandlerOptions {
  /**
   * The Upstash Redis client entries, tag stamps and locks live in.
   * @default none: the memory of this process (see `store`)
   */
  redis?: Redis;
  /**
   * Without `redis`: the store that holds tag stamps, the version clock and the regeneration locks, while
   * entries stay in this process's memory. Pass the `MemoryStore` of a next-cacheback instance to share its
   * tags (tests use one on a controlled clock). Ignored when `redis` is given.
   * @default a new `MemoryStore`
   */
  store?: CacheStore;
  /**
   * Prefix of every key, shared with next-cacheback's own entries and tags: entries under
   * `<prefix>hentry:`, regeneration locks under `<prefix>hlock:`, tag stamps under `<prefix>tag:`, the
   * clock at `<prefix>clock`.
   * @default "cacheback:"
   */
  prefix?: string;
  /**
   * Seconds a `get` waits (for Redis, and for a `set` of the same key in progress here) before it answers a
   * miss and Next.js renders the entry afresh.
   * @default process.env.CACHEBACK_READ_TIMEOUT, else 1
   */
  readTimeout?: number;
  /**
   * Seconds a `set` or an `updateTags` may take before it is reported as failed.
   * @default 10
   */
  writeTimeout?: number;
  /**
   * Seconds the regeneration lock holds when the winner's `set` never lands (its regeneration failed):
   * after it, the next reader of the stale entry regenerates it.
   * @default 30
   */
  lockTimeout?: number;
  /**
   * The longest an entry, a tag stamp or the clock lives in Redis, in seconds (the same setting as
   * `createCacheback({ maxTtl })`). An entry expires at the smaller of its `expire` and this.
   * @default 2592000 (30 days)
   */
  maxTtl?: number;
  /**
   * Largest entry stored, in bytes of its value. Upstash refuses requests over 10 MB (pay-as-you-go) and the
   * value travels base64-encoded (4/3 larger) with its tags: 7 MiB keeps the request under 10 MB. A larger
   * entry is not stored; the log and a `set-skipped` event say so.
   * @default 7340032 (7 MiB)
   */
  maxEntrySize?: number;
  /** Called with every event; a listener that throws is logged and ignored. */
  onEvent?: (event: CacheHandlerEvent) => void;
  /**
   * Logs every event to the console. Also on when the `CACHEBACK_DEBUG` env var is set.
   * @default false
   */
  debug?: boolean;
  /**
   * The clock, ms since the epoch. Tests pass a controlled one.
   * @default Next.js's own: `performance.timeOrigin + performance.now()`
   */
  now?: () => number;
}
