import { load, type NextCache } from "./load.js";
import { notePending, type PendingKind } from "./pending.js";

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
