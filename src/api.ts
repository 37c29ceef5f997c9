import type { InvalidateResult, PeekResult, TypedFetch, TypedFetchWithStatus } from "./core/results.js";
import { defaultCacheback } from "./setup/default-instance.js";
import { makeJob, type Job, type JobOptions } from "./job.js";
import type { CacheKey } from "./keys.js";
import type { TagInvalidationOptions } from "./cacheback.js";
import type { TagInvalidation } from "./core/tag-verbs.js";
import type { WriteOptions } from "./core/verbs.js";
import { createRefreshHandler as createHandler, type RefreshHandlerOptions } from "./route/handler.js";
import type { Serializer } from "./serializer.js";
import type { Awaitable, ReadValue } from "./types.js";
import type { CachebackEvent, CachebackEvents, CachebackEventType } from "./events.js";

/**
 * Reads through the cache of the default instance (configured from the environment).
 *
 * ```ts
 * const posts = await cachebackFetch(["posts", userId], fetchPosts, { lifetime: 60 });
 * ```
 * Fresh: the cached value, after one Redis read. Stale: the cached value at once, and one QStash refresh
 * (one across every instance). Miss: `fn(...args)` once per key per process, or with
 * `fetchOnMiss: false` the `empty` value and a background refresh. The refresh route must know the job:
 * `createRefreshHandler({ jobs: { posts: fetchPosts } })`.
 */
export const cachebackFetch: TypedFetch = ((...args: unknown[]) =>
  (defaultCacheback().fetch as (...a: unknown[]) => unknown)(...args)) as TypedFetch;

/** Like {@link cachebackFetch}, and tells what happened: `status` (`hit` / `stale` / `miss`), `syncFetch`, `age`. */
export const cachebackFetchWithStatus: TypedFetchWithStatus = ((...args: unknown[]) =>
  (defaultCacheback().fetchWithStatus as (...a: unknown[]) => unknown)(...args)) as TypedFetchWithStatus;

/**
 * Defines a named, typed job on the default instance: call it like `fn`; `.invalidate`, `.delete`,
 * `.set`, `.peek`, `.key` act on the entry of the given arguments. Register it with the refresh route.
 *
 * ```ts
 * export const quote = defineJob("quote", slowQuote, { lifetime: 60 });
 * const q = await quote(id);
 * ```
 */
export function defineJob<A extends readonly unknown[], T, const O extends JobOptions<A, T> = JobOptions<A, T>>(
  name: string,
  fn: (...args: A) => Awaitable<T>,
  options?: O,
): Job<A, T, ReadValue<T, O>> {
  // Bound lazily: the default instance is made on first use, after the environment is loaded.
  return makeJob<A, T, ReadValue<T, O>>(defaultCacheback, name, fn, options);
}

/**
 * The refresh route. In `app/api/cacheback/route.ts`:
 * ```ts
 * export const POST = createRefreshHandler({ jobs: [quote, posts] }); // or { jobs: { quote: slowQuote } }
 * ```
 */
export function createRefreshHandler(options: RefreshHandlerOptions): (request: Request) => Promise<Response> {
  return createHandler(options, defaultCacheback);
}

/**
 * The default instance's verbs for any key (a job name, or `[jobName, ...args]`), and its events.
 * Jobs made with `defineJob` have the same verbs bound to their arguments.
 */
export const cacheback = {
  /** Marks the entry stale and queues a refresh at once. */
  invalidate: (key: CacheKey, options?: WriteOptions): Promise<InvalidateResult> => defaultCacheback().invalidate(key, options),
  /** Removes the entry. */
  delete: (key: CacheKey): Promise<void> => defaultCacheback().delete(key),
  /** Writes a value by hand, fresh for `lifetime`. */
  set: <T>(key: CacheKey, value: T, options?: WriteOptions<T>): Promise<void> =>
    defaultCacheback().set(key, value, options),
  /** Reads the raw entry with its status and age, with no side effects. */
  peek: <T = unknown>(key: CacheKey, options?: { serializer?: Serializer<T> }): Promise<PeekResult<T>> => defaultCacheback().peek<T>(key, options),
  /**
   * Makes every entry carrying one of the tags stale, in every instance, and calls Next.js's
   * `revalidateTag(tag, "max")`. Throws `CachebackStoreError` when Redis fails.
   */
  revalidateTag: (tags: string | readonly string[], options?: TagInvalidationOptions): Promise<TagInvalidation> =>
    defaultCacheback().revalidateTag(tags, options),
  /**
   * Expires every entry carrying one of the tags, in every instance, and calls Next.js's `updateTag(tag)`
   * (in a route handler, `revalidateTag(tag, { expire: 0 })`). Throws `CachebackStoreError` when Redis fails.
   */
  updateTag: (tags: string | readonly string[], options?: TagInvalidationOptions): Promise<TagInvalidation> =>
    defaultCacheback().updateTag(tags, options),
  /** The Redis key of an entry. */
  key: (key: CacheKey): string => defaultCacheback().key(key),
  /** Subscribes to the default instance's events; returns the unsubscribe function. */
  on: <K extends CachebackEventType | "*">(
    type: K,
    listener: (event: K extends CachebackEventType ? { type: K } & CachebackEvents[K] : CachebackEvent) => void,
  ): (() => void) => defaultCacheback().on(type, listener),
} as const;
