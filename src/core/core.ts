import type { CachebackEvent, CachebackEvents, CachebackEventType } from "../events.js";
import type { CacheKey } from "../keys.js";
import type { RefreshMessage } from "../message.js";
import type { FetchOptions } from "../options.js";
import type { RefreshQueue, SigningKeys } from "../queues/types.js";
import type { Serializer } from "../serializer.js";
import type { CacheStore } from "../stores/types.js";
import { createContext, type CoreContext, type CoreParts } from "./context.js";
import { read, type ReadDeps } from "./read.js";
import type { CachebackResult, InvalidateResult, PeekResult, RefreshOutcome, TypedFetch, TypedFetchWithStatus } from "./results.js";
import { releaseLockFor, runRefresh } from "./runner.js";
import { refreshUrl } from "./dispatch.js";
import { RefreshScheduler } from "./scheduler.js";
import { signingKeysFor } from "./settings.js";
import { SyncFetcher, type Fetcher } from "./sync-fetch.js";
import { stampTags, type TagInvalidation } from "./tag-verbs.js";
import { invalidate, keysOf, peek, remove, set, type WriteOptions } from "./verbs.js";

let instanceCount = 0;

/**
 * The core of an instance: the read path and the verbs, made from a store, a queue and resolved
 * settings. It knows nothing of routes, jobs, the environment or the dev tools; `Cacheback` (what
 * `createCacheback` returns) builds it from a configuration and adds jobs and the refresh route.
 */
export class CachebackCore {
  /** The store entries live in. */
  readonly store: CacheStore;
  /** The queue refresh messages go to. */
  readonly queue: RefreshQueue;
  /** Prefix of every key this instance writes. */
  readonly prefix: string;
  /** A label for logs. */
  readonly id: string;

  readonly #ctx: CoreContext;
  readonly #deps: ReadDeps;

  constructor(parts: CoreParts) {
    this.store = parts.store;
    this.queue = parts.queue;
    this.prefix = parts.settings.prefix;
    this.id = `${this.store.name}+${this.queue.name}#${++instanceCount}`;
    this.#ctx = createContext(parts);
    this.#deps = { ctx: this.#ctx, scheduler: new RefreshScheduler(this.#ctx), sync: new SyncFetcher(this.#ctx), plans: new WeakMap() };
  }

  /**
   * Subscribes to events (`hit`, `stale`, `miss`, `refresh-queued`, `refresh-done`, `refresh-failed`,
   * `error`, or `"*"` for all). Returns the unsubscribe function.
   */
  on<K extends CachebackEventType | "*">(
    type: K,
    listener: (event: K extends CachebackEventType ? { type: K } & CachebackEvents[K] : CachebackEvent) => void,
  ): () => void {
    return this.#ctx.events.on(type, listener);
  }

  /** The Redis key an entry is stored under. */
  key(key: CacheKey): string {
    return keysOf(this.#ctx, key).keys.entry;
  }

  /**
   * Reads through the cache. A fresh entry is returned after one store read; a stale one is returned at
   * once and one background refresh is queued (one across every instance); a miss calls `fn` (once per
   * key per process) or, with `fetchOnMiss: false`, returns `empty` and refreshes in the background.
   *
   * `key` is a job name, or `[jobName, ...args]` where `args` are what `fn` is called with.
   */
  readonly fetch: TypedFetch = ((key: CacheKey, fn: Fetcher, options?: FetchOptions<unknown>) =>
    read(this.#deps, key, fn, options).then((r) => r.value)) as TypedFetch;

  /** Like {@link CachebackCore.fetch}, and tells what happened: status, whether `fn` ran, the entry's age. */
  readonly fetchWithStatus: TypedFetchWithStatus = ((key: CacheKey, fn: Fetcher, options?: FetchOptions<unknown>) =>
    read(this.#deps, key, fn, options)) as TypedFetchWithStatus;

  /** The untyped read (what jobs call). @internal */
  read<T>(key: CacheKey, fn: Fetcher, options?: FetchOptions<T>): Promise<CachebackResult<T>> {
    return read(this.#deps, key, fn, options);
  }

  /**
   * Marks an entry stale and queues a refresh at once, whoever holds the refresh lock. Readers keep
   * getting the old value until the refresh writes the new one; a refresh that began before this call
   * cannot overwrite its outcome. Without a `lifetime` option the refreshed entry keeps the lifetime it
   * was written with.
   */
  invalidate(key: CacheKey, options?: WriteOptions): Promise<InvalidateResult> {
    return invalidate(this.#ctx, this.#deps.scheduler, key, options);
  }

  /** Removes an entry (and its refresh lock). The next read is a miss. */
  delete(key: CacheKey): Promise<void> {
    return remove(this.#ctx, key);
  }

  /** Writes a value by hand, fresh for `lifetime`. It wins over any refresh that began before it. */
  set<T>(key: CacheKey, value: T, options?: WriteOptions<T>): Promise<void> {
    return set(this.#ctx, key, value, options);
  }

  /**
   * Makes every entry carrying one of `tags` and written before this call stale, in every instance: the
   * next read serves it and queues one refresh. One round trip whatever the number of tags and entries.
   * @throws CachebackStoreError when the store fails (the invalidation did not happen).
   */
  revalidateTag(tags: string | readonly string[]): Promise<TagInvalidation> {
    return stampTags(this.#ctx, tags, { kind: "stale" }, "revalidateTag");
  }

  /**
   * Expires every entry carrying one of `tags` and written before this call, in every instance: the
   * next read fetches synchronously (or, with `fetchOnMiss: false`, returns `empty` and refreshes).
   * @throws CachebackStoreError when the store fails (the invalidation did not happen).
   */
  updateTag(tags: string | readonly string[]): Promise<TagInvalidation> {
    return stampTags(this.#ctx, tags, { kind: "expire" }, "updateTag");
  }

  /** Reads the raw entry with its status, age and tags; no fetch, no refresh, no events. */
  peek<T = unknown>(key: CacheKey, options?: { serializer?: Serializer<T> }): Promise<PeekResult<T>> {
    return peek(this.#ctx, key, options);
  }

  /** Runs one delivered refresh (the refresh route's work); never throws. @internal */
  runRefresh(message: RefreshMessage, fn: Fetcher, jobOptions: FetchOptions<unknown> | undefined): Promise<RefreshOutcome> {
    return runRefresh(this.#ctx, message, fn, jobOptions);
  }

  /** Releases the refresh lock a message holds (for a message that can never succeed). @internal */
  releaseLockFor(message: RefreshMessage): Promise<void> {
    return releaseLockFor(this.#ctx, message);
  }

  /** The keys the refresh route verifies signatures with; throws when there are none. @internal */
  signingKeys(): SigningKeys {
    return signingKeysFor(this.#ctx.settings);
  }

  /** The absolute URL refresh messages are delivered to; throws in production when none is configured. @internal */
  refreshUrl(): string {
    return refreshUrl(this.#ctx);
  }
}
