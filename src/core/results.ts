import type { CacheStatus } from "../events.js";
import type { StatusReason } from "./decide.js";
import type { ReadOptions, ReadValue, Awaitable } from "../types.js";

/** A read's value with what happened to produce it (django-cacheback's `process_result`). */
export interface CachebackResult<T> {
  /** The value served: cached, freshly fetched, or the `empty` value. */
  value: T;
  /** `hit`: fresh entry; `stale`: entry past its lifetime; `miss`: no usable entry. */
  status: CacheStatus;
  /**
   * Why: `fresh`; stale by `lifetime`, `invalidated` or `tag`; a miss because the entry is `absent`,
   * expired by a `tag`, `unreadable`, or the store failed (`store-error`).
   */
  reason: StatusReason;
  /** The tag that made the entry stale or expired it (with `reason: "tag"`). */
  tag?: string;
  /** Whether the fetcher ran during this read (a miss with `fetchOnMiss`, or past `fetchOnStaleThreshold`). */
  syncFetch: boolean;
  /** Age in seconds of the value served (0 right after a synchronous fetch); `null` when `empty` was served. */
  age: number | null;
  /**
   * Whether a background refresh is on its way: asked for by this read, or by a read of this process
   * moments before (the shared lock decides which instance actually queues it).
   */
  refreshScheduled: boolean;
  /** Settles when this read's background work (lock, publish, write-back) is done. Hand it to `waitUntil` if you like. */
  background: Promise<void>;
  /** `true` when a copy in this process's memory served the read (the `memory` option): no Redis read. */
  fromMemory?: true;
}

/** What `peek` finds, with no side effects. */
export interface PeekResult<T> {
  /** `hit` (fresh), `stale`, or `miss` (absent, expired by a tag, or unreadable). */
  status: CacheStatus;
  /** The stored value; `undefined` on a miss. */
  value: T | undefined;
  /** Seconds since the value was written; `null` on a miss. */
  age: number | null;
  /** When the value was written, ms since the epoch. */
  writtenAt: number | null;
  /** Until when the entry is fresh, ms since the epoch (0 after `invalidate`). */
  freshUntil: number | null;
  /** True when something is stored under the key but it is not a readable entry (a read treats it as a miss). */
  corrupt: boolean;
  /** The tags the entry was written with (encoded). */
  tags: string[];
  /** The tag whose invalidation made the entry stale or expired it, if one did. */
  invalidatedBy: { tag: string; kind: "stale" | "expired" } | null;
}

/** What `invalidate` did. */
export interface InvalidateResult {
  /** Whether an entry was there to mark stale. */
  marked: boolean;
  /** The queue's id of the refresh message. */
  messageId: string;
}

/** A refresh that ran (or had nothing to do). @internal */
export interface RefreshSuccess {
  ok: true;
  /**
   * `written`; `skipped-newer`: a newer entry was stored meanwhile; `skipped-fresh`: already refreshed;
   * `skipped-done`: this very refresh (its lock token) completed before: a redelivery.
   */
  status: "written" | "skipped-newer" | "skipped-fresh" | "skipped-done";
  key: string;
  durationMs: number;
  /** The entry's tags (encoded). */
  tags: readonly string[];
}

/** A refresh that failed, and in which phase. @internal */
export interface RefreshFailure {
  ok: false;
  phase: "options" | "store" | "fetch" | "timeout" | "serialize";
  key: string;
  error: unknown;
}

/** The outcome of one refresh run by the refresh route. @internal */
export type RefreshOutcome = RefreshSuccess | RefreshFailure;

/** The options type of a call that passes none. */
export type NoOptions = Record<never, never>;

/** The typed signature of `fetch` / `cachebackFetch`: the key's arguments are checked against `fn`'s parameters. */
export interface TypedFetch {
  <T, const O extends ReadOptions<T> = NoOptions>(key: string, fn: () => Awaitable<T>, options?: O): Promise<ReadValue<T, O>>;
  <A extends readonly unknown[], T, const O extends ReadOptions<T> = NoOptions>(
    key: readonly [name: string, ...args: A],
    fn: (...args: NoInfer<A>) => Awaitable<T>,
    options?: O,
  ): Promise<ReadValue<T, O>>;
}

/** The typed signature of `fetchWithStatus` / `cachebackFetchWithStatus`. */
export interface TypedFetchWithStatus {
  <T, const O extends ReadOptions<T> = NoOptions>(key: string, fn: () => Awaitable<T>, options?: O): Promise<CachebackResult<ReadValue<T, O>>>;
  <A extends readonly unknown[], T, const O extends ReadOptions<T> = NoOptions>(
    key: readonly [name: string, ...args: A],
    fn: (...args: NoInfer<A>) => Awaitable<T>,
    options?: O,
  ): Promise<CachebackResult<ReadValue<T, O>>>;
}
