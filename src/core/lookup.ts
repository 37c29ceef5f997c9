import { toStoredEntry, type Envelope, type StoredEntry } from "../entry.js";
import { tagKey, type EntryKeys } from "../keys.js";
import type { TaggedRead } from "../stores/types.js";
import { tagVerdict, type TagStamp, type TagVerdict } from "../tags/stamps.js";
import { withTimeout } from "../timeout.js";
import type { CoreContext } from "./context.js";
import { requestMemoRead, requestMemoTaggedRead } from "./request-memo.js";

/** What one look at the store found for an entry. */
export interface Lookup {
  /** The entry, when a readable one is stored. */
  entry: Envelope | undefined;
  /** Something is stored, but not a readable entry. */
  unreadable: boolean;
  /** What the stamps of the entry's tags make of it. */
  verdict: TagVerdict | undefined;
}

const NOTHING: Lookup = Object.freeze({ entry: undefined, unreadable: false, verdict: undefined });
const UNREADABLE: Lookup = Object.freeze({ entry: undefined, unreadable: true, verdict: undefined });

/** How to look: the tags the caller reads the entry with, and the time budget. */
export interface LookupPlan {
  keys: EntryKeys;
  /** The reader's tags (encoded); empty for an untagged read, which costs one `GET`. */
  tags: readonly string[];
  timeoutMs: number;
  /** Read through React `cache()` (the read path; background work reads afresh). */
  memo: boolean;
}

/**
 * Reads an entry and, when the reader has tags, their stamps: one round trip (`GET`, or `MGET` of the
 * entry and the reader's stamps), then {@link settle}. Throws when the store fails or times out.
 */
export async function lookup(ctx: CoreContext, plan: LookupPlan): Promise<Lookup> {
  const { keys, tags, timeoutMs } = plan;
  if (tags.length === 0) {
    const read = requestMemoRead(ctx.store, keys.entry, plan.memo && ctx.settings.requestMemo);
    return settle(ctx, plan, toStoredEntry(await withTimeout(read, timeoutMs, () => `read of ${keys.entry}`)), undefined);
  }
  const stampKeys = tags.map((tag) => tagKey(ctx.settings.prefix, tag));
  const read: Promise<TaggedRead> = requestMemoTaggedRead(ctx.store, keys.entry, stampKeys, plan.memo && ctx.settings.requestMemo);
  const { entry, stamps } = await withTimeout(read, timeoutMs, () => `read of ${keys.entry}`);
  return settle(ctx, plan, entry, stamps);
}

/**
 * What a stored entry (and the reader's stamps, when it read with tags) make of it. When the entry was
 * written with tags the reader does not name, their stamps govern too: one more round trip, and a
 * warning once per key. Throws when that read fails.
 */
export async function settle(ctx: CoreContext, plan: LookupPlan, stored: StoredEntry, stamps: (TagStamp | null)[] | undefined): Promise<Lookup> {
  const { keys, tags, timeoutMs } = plan;
  if (stored === null) return NOTHING;
  if (stored === "unreadable") return UNREADABLE;
  const others = stored.tags?.filter((tag) => !tags.includes(tag));
  if (!others || others.length === 0) {
    return { entry: stored, unreadable: false, verdict: stamps ? tagVerdict(stored.version, tags, stamps, ctx.now()) : undefined };
  }
  ctx.report.once(
    `tags:${keys.entry}`,
    `[next-cacheback] ${keys.entry} was written with tags [${stored.tags?.join(", ")}] and is read with [${tags.join(", ")}]: ` +
      "every one of them governs it, at the cost of a second round trip per read. Give every call site of a key the same tags.",
  );
  const extra = await withTimeout(
    ctx.store.getStamps(others.map((tag) => tagKey(ctx.settings.prefix, tag))),
    timeoutMs,
    () => `read of the tags of ${keys.entry}`,
  );
  return { entry: stored, unreadable: false, verdict: tagVerdict(stored.version, [...tags, ...others], [...(stamps ?? []), ...extra], ctx.now()) };
}
