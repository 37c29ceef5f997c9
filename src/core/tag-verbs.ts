import { CachebackStoreError } from "../errors.js";
import { tagKey } from "../keys.js";
import type { StampChange } from "../tags/stamps.js";
import { encodeTags } from "../tags/tags.js";
import { clockRequest } from "./clock.js";
import type { CoreContext } from "./context.js";

/** What a tag invalidation did. */
export interface TagInvalidation {
  /** The tags, as stored (percent-encoded outside printable ASCII, as Next.js hands them to cache handlers). */
  tags: string[];
  /** The version of the invalidation on the shared clock: entries whose data is older are affected. */
  version: number;
}

/**
 * Stamps tags in one round trip, whatever the number of tags and of entries that carry them; the stamps
 * live `maxTtl`. Throws a {@link CachebackStoreError} when the store fails: a mutation must know that
 * its invalidation did not happen.
 */
export async function stampTags(ctx: CoreContext, tags: string | readonly string[], change: StampChange, what: string): Promise<TagInvalidation> {
  const encoded = encodeTags(tags, what);
  if (encoded.length === 0) return { tags: [], version: 0 };
  const keys = encoded.map((tag) => tagKey(ctx.settings.prefix, tag));
  let version: number;
  try {
    version = await ctx.store.stampTags(clockRequest(ctx), keys, change, ctx.settings.maxTtlMs);
  } catch (error) {
    throw new CachebackStoreError(`${what}(${encoded.map((t) => JSON.stringify(t)).join(", ")})`, error);
  }
  ctx.memory.forgetTagged(encoded);
  ctx.events.emit("tags-invalidated", { tags: encoded, kind: change.kind === "expire" ? "expire" : "stale", version });
  return { tags: encoded, version };
}
