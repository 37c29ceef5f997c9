import type { CachebackConfig } from "./config.js";
import { CachebackCore } from "./core/core.js";
import type { TagInvalidation } from "./core/tag-verbs.js";
import { makeJob, type Job, type JobOptions } from "./job.js";
import { createRefreshHandler, type RefreshHandlerOptions } from "./route/handler.js";
import { assemble } from "./setup/assemble.js";
import type { Awaitable, ReadValue } from "./types.js";

/** The bridge to Next.js's `revalidateTag` / `updateTag`, loaded with the first tag invalidation. */
const nextInvalidate = () => import("./next/invalidate.js");

/** Options of `revalidateTag` / `updateTag`. */
export interface TagInvalidationOptions {
  /**
   * Also invalidate the tags in Next.js's cache (`revalidateTag(tag, "max")`, or `updateTag(tag)`).
   * @default the instance's `nextCache` (true)
   */
  nextCache?: boolean;
}

/**
 * An instance: a store, a queue, a prefix and option defaults, with jobs, a refresh route and the bridge
 * to Next.js's cache. The top-level functions use one made from the environment; `createCacheback(config)`
 * makes others.
 */
export class Cacheback extends CachebackCore {
  readonly #nextCache: boolean;

  constructor(config: CachebackConfig = {}) {
    super(assemble(config));
    this.#nextCache = config.nextCache ?? true;
  }

  /** Defines a named, typed job on this instance (see the top-level `defineJob`). */
  defineJob<A extends readonly unknown[], T, const O extends JobOptions<A, T> = JobOptions<A, T>>(
    name: string,
    fn: (...args: A) => Awaitable<T>,
    options?: O,
  ): Job<A, T, ReadValue<T, O>> {
    return makeJob<A, T, ReadValue<T, O>>(() => this, name, fn, options);
  }

  /** The refresh route of this instance (see the top-level `createRefreshHandler`). */
  createRefreshHandler(options: Omit<RefreshHandlerOptions, "cacheback">): (request: Request) => Promise<Response> {
    return createRefreshHandler({ ...options, cacheback: this });
  }

  /**
   * Makes every entry carrying one of `tags` and written before this call stale, in every instance (the
   * next read serves it and queues one refresh), and calls Next.js's `revalidateTag(tag, "max")` so the
   * pages Next.js cached with them regenerate too. One round trip to Redis for any number of tags.
   * @throws CachebackStoreError when Redis fails: the invalidation did not happen.
   */
  override async revalidateTag(tags: string | readonly string[], options?: TagInvalidationOptions): Promise<TagInvalidation> {
    const done = await super.revalidateTag(tags);
    if (options?.nextCache ?? this.#nextCache) await (await nextInvalidate()).invalidateNextTags(done.tags, "stale");
    return done;
  }

  /**
   * Expires every entry carrying one of `tags` and written before this call, in every instance (the next
   * read fetches, so a server action reads its own write), and calls Next.js's `updateTag(tag)` (in a
   * route handler, `revalidateTag(tag, { expire: 0 })`). One round trip to Redis for any number of tags.
   * @throws CachebackStoreError when Redis fails: the invalidation did not happen.
   */
  override async updateTag(tags: string | readonly string[], options?: TagInvalidationOptions): Promise<TagInvalidation> {
    const done = await super.updateTag(tags);
    if (options?.nextCache ?? this.#nextCache) await (await nextInvalidate()).invalidateNextTags(done.tags, "expire");
    return done;
  }
}

/** Makes an explicit instance (own Redis / QStash clients, prefix, defaults). */
export function createCacheback(config: CachebackConfig = {}): Cacheback {
  return new Cacheback(config);
}
