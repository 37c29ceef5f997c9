import { inCacheScope, load } from "./load.js";

/**
 * Attaches `tags` to the Next.js cache entry being computed, when called inside a `'use cache'` scope
 * (so Next.js's `revalidateTag` / `updateTag` reach the pages that embed the entry). Elsewhere it does
 * nothing. Never throws.
 */
export async function attachCacheTags(tags: readonly string[]): Promise<void> {
  try {
    if (typeof process !== "undefined" && !process.env.__NEXT_USE_CACHE) return; // `cacheComponents` is off
    const { cache, scope } = await load();
    if (!cache?.cacheTag || inCacheScope(scope) === false) return;
    cache.cacheTag(...tags);
  } catch {
    // Outside a 'use cache' scope (when the scope could not be told beforehand): nothing to attach to.
  }
}
