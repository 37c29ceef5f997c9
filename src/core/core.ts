import type { CachebackEvent, CachebackEvents, CachebackEventType } from "../events.js";
import { Deadlines } from "../deadlines.js";
import { keyParts, type CacheKey } from "../keys.js";
import type { RefreshMessage } from "../message.js";
import type { FetchOptions } from "../options.js";
import type { RefreshQueue, SigningKeys } from "../queues/types.js";
import type { Serializer } from "../serializer.js";
import type { Telemetry } from "../telemetry/types.js";
import type { CacheStore } from "../stores/types.js";
import { createContext, type CoreContext, type CoreParts } from "./context.js";
import { read, type ReadDeps } from "./read.js";
import type { CachebackResult, InvalidateResult, PeekResult, RefreshOutcome, TypedFetch, TypedFetchWithStatus } from "./results.js";
import { KeyCache } from "./key-cache.js";
import { Plans } from "./plan.js";
import type { Fetcher, SyncFetcher } from "./sync-fetch.js";
import type { TagInvalidation } from "./tag-verbs.js";
import type { WriteOptions } from "./verbs.js";

// What a read that hits never needs is loaded on first use: an app that only serves hits at start-up
// does not load the verbs, the tag invalidation, the synchronous fetch or the refresh runner.
const verbs = () => import("./verbs.js");
const tagVerbs = () => import("./tag-verbs.js");
const runner = () => import("./runner.js");

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
    const ctx = this.#ctx;
    let sync: Promise<SyncFetcher> | undefined;
    this.#deps = {
      ctx,
      sync: () => (sync ??= import("./sync-fetch.js").then((m) => new m.SyncFetcher(ctx))),
      plans: new Plans(),
      keys: new KeyCache(parts.settings.prefix),
      deadlines: new Deadlines(parts.settings.readTimeoutMs, "read of "),
    };
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
    return keyParts(this.prefix, key).keys.entry;
  }

  /**
   * Reads through the cache. A fresh entry is returned after one store read; a stale one is returned at
   * once and one background refresh is queued (one across every instance); a miss calls `fn` (once per
   * key per process) or, with `fetchOnMiss: false`, returns `empty` and refreshes in the background.
   *
   * `key` is a job name, or `[jobName, ...args]` where `args` are what `fn` is called with.
   */
  readonly fetch: TypedFetch = ((key: CacheKey, fn: Fetcher, options?: FetchOptions<unknown>) => read(this.#deps, key, fn, options, true)) as TypedFetch;

  /** Like {@link CachebackCore.fetch}, and tells what happened: status, whether `fn` ran, the entry's age. */
  readonly fetchWithStatus: TypedFetchWithStatus = ((key: CacheKey, fn: Fetcher, options?: FetchOptions<unknown>) =>
    read(this.#deps, key, fn, options)) as TypedFetchWithStatus;

  /** The untyped read (what jobs call). @internal */
  read<T>(key: CacheKey, fn: Fetcher, options?: FetchOptions<T>): Promise<CachebackResult<T>> {
    return read(this.#deps, key, fn, options);
  }

  /** The untyped read of the value alone (what jobs call). @internal */
  readValue<T>(key: CacheKey, fn: Fetcher, options?: FetchOptions<T>): Promise<T> {
    return read(this.#deps, key, fn, options, true);
  }

  /**
   * Marks an entry stale and queues a refresh at once, whoever holds the refresh lock. Readers keep
   * getting the old value until the refresh writes the new one; a refresh that began before this call
   * cannot overwrite its outcome. Without a `lifetime` option the refreshed entry keeps the lifetime it
   * was written with.
   */
  invalidate(key: CacheKey, options?: WriteOptions): Promise<InvalidateResult> {
    return verbs().then((v) => v.invalidate(this.#ctx, this.#deps, key, options));
  }

  /** Removes an entry (and its refresh lock). The next read is a miss. */
  delete(key: CacheKey): Promise<void> {
    return verbs().then((v) => v.remove(this.#ctx, key));
  }

  /** Writes a value by hand, fresh for `lifetime`. It wins over any refresh that began before it. */
  set<T>(key: CacheKey, value: T, options?: WriteOptions<T>): Promise<void> {
    return verbs().then((v) => v.set(this.#ctx, key, value, options));
  }

  /**
   * Makes every entry carrying one of `tags` and written before this call stale, in every instance: the
   * next read serves it and queues one refresh. One round trip whatever the number of tags and entries.
   * @throws CachebackStoreError when the store fails (the invalidation did not happen).
   */
  revalidateTag(tags: string | readonly string[]): Promise<TagInvalidation> {
    return tagVerbs().then((v) => v.stampTags(this.#ctx, tags, { kind: "stale" }, "revalidateTag"));
  }

  /**
   * Expires every entry carrying one of `tags` and written before this call, in every instance: the
   * next read fetches synchronously (or, with `fetchOnMiss: false`, returns `empty` and refreshes).
   * @throws CachebackStoreError when the store fails (the invalidation did not happen).
   */
  updateTag(tags: string | readonly string[]): Promise<TagInvalidation> {
    return tagVerbs().then((v) => v.stampTags(this.#ctx, tags, { kind: "expire" }, "updateTag"));
  }

  /** Reads the raw entry with its status, age and tags; no fetch, no refresh, no events. */
  peek<T = unknown>(key: CacheKey, options?: { serializer?: Serializer<T> }): Promise<PeekResult<T>> {
    return verbs().then((v) => v.peek(this.#ctx, key, options));
  }

  /** Runs one delivered refresh (the refresh route's work); never throws. @internal */
  runRefresh(message: RefreshMessage, fn: Fetcher, jobOptions: FetchOptions<unknown> | undefined): Promise<RefreshOutcome> {
    return runner().then((r) => r.runRefresh(this.#ctx, message, fn, jobOptions));
  }

  /**
   * The instance's OpenTelemetry while a provider is registered (what the refresh route traces with),
   * once the instance has looked for one that was registered before it was made. @internal
   */
  telemetry(): Promise<Telemetry | undefined> {
    return Promise.resolve(this.#ctx.telReady).then(() => this.#ctx.tel);
  }

  /** Releases the refresh lock a message holds (for a message that can never succeed). @internal */
  releaseLockFor(message: RefreshMessage): Promise<void> {
    return runner().then((r) => r.releaseLockFor(this.#ctx, message));
  }

  /**
   * What the refresh route checks deliveries against: the absolute URL they are signed for and the
   * signing keys. Rejects when either is missing (in production, a refresh URL must be configured). @internal
   */
  routeEndpoint(): Promise<{ url: string; keys: SigningKeys }> {
    return runner().then((r) => r.routeEndpoint(this.#ctx));
  }
}
