import { insideNext } from "../runtime.js";
import { notePending, type PendingKind } from "./pending.js";

/**
 * The bridge to Next.js's own cache (`next/cache`): attaching our tags to the enclosing `'use cache'`
 * entry, and passing our tag invalidations on to `revalidateTag` / `updateTag`. Loaded only inside a
 * Next.js server; everywhere else (a script, a test, plain Node) every call here does nothing. Where
 * Next.js refuses a call (during a render, inside `'use cache'`, outside a request), it is skipped
 * without an error: our own entries are already invalidated.
 */
interface NextCache {
  cacheTag?: (...tags: string[]) => void;
  revalidateTag?: (tag: string, profile?: string | { expire?: number }) => void;
  updateTag?: (tag: string) => void;
}

interface WorkUnitStorage {
  workUnitAsyncStorage?: { getStore(): { type?: string } | undefined };
}

let loaded: Promise<{ cache: NextCache | null; scope: WorkUnitStorage | null }> | undefined;

// `next` has no exports map, so plain Node ESM needs the file names.
function load(): Promise<{ cache: NextCache | null; scope: WorkUnitStorage | null }> {
  if (!insideNext()) return Promise.resolve({ cache: null, scope: null });
  loaded ??= Promise.all([
    import("next/cache.js").then((m) => m as unknown as NextCache, () => null),
    import("next/dist/server/app-render/work-unit-async-storage.external.js").then(
      (m) => m as unknown as WorkUnitStorage,
      () => null,
    ),
  ]).then(([cache, scope]) => ({ cache, scope }));
  return loaded;
}

/** Whether this code runs inside a `'use cache'` scope (`undefined` when Next.js's storage cannot tell). */
function inCacheScope(scope: WorkUnitStorage | null): boolean | undefined {
  const storage = scope?.workUnitAsyncStorage;
  if (!storage) return undefined;
  const type = storage.getStore()?.type;
  return type === "cache" || type === "private-cache";
}

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

/**
 * Invalidates `tags` in Next.js's cache too: `stale` as `revalidateTag(tag, "max")`; `expire` as
 * `updateTag(tag)` in a server action, `revalidateTag(tag, { expire: 0 })` elsewhere (Next.js's
 * `updateTag` works in server actions only); `pages` (new data was written: only the pages that embed
 * it must regenerate) as `revalidateTag(tag, "max")`. Where Next.js refuses, nothing happens. Never throws.
 */
export async function invalidateNextTags(tags: readonly string[], kind: PendingKind): Promise<void> {
  if (tags.length === 0) return;
  let cache: NextCache | null;
  try {
    cache = (await load()).cache;
  } catch {
    return;
  }
  if (!cache?.revalidateTag) return;
  notePending(tags, kind);
  for (const tag of tags) {
    try {
      if (kind !== "expire") {
        cache.revalidateTag(tag, "max");
        continue;
      }
      try {
        if (!cache.updateTag) throw new Error("no updateTag");
        cache.updateTag(tag);
      } catch {
        cache.revalidateTag(tag, { expire: 0 });
      }
    } catch {
      // Next.js refuses here (during a render, inside 'use cache', outside a request): ours are invalidated.
    }
  }
}
