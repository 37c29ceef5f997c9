import { tagVerdict, type TagStamp } from "../tags/stamps.js";
import type { StoredHandlerEntry } from "./format.js";
import type { CacheEntry, MissReason } from "./types.js";

/** What a read found: a miss (with its reason), an entry within its `revalidate`, or one to regenerate. */
export type ReadState = Exclude<MissReason, "store-error"> | "fresh" | "stale";

/** The state of an entry, and the tag that decided it (for a tag-expired or tag-stale entry). */
export interface Verdict {
  state: ReadState;
  tag?: string;
}

/**
 * What an entry is at `nowMs` (pure). The read script (`READ_ENTRY`) decides the same way, in the same
 * order: evicted (negative `expire`), expired (past `expire`, at least `minExpireS` under `next dev`),
 * then the stamps of its tags followed by the soft tags (`tagVerdict` with `pages`: a cached page is
 * stale after a pages-only stamp too), then past `revalidate` (stale).
 */
export function judgeEntry(
  entry: StoredHandlerEntry | null | "unreadable",
  tags: readonly string[],
  stamps: readonly (TagStamp | null)[],
  nowMs: number,
  minExpireS: number,
): Verdict {
  if (entry === null) return { state: "absent" };
  if (entry === "unreadable") return { state: "unreadable" };
  if (entry.expire < 0) return { state: "evicted" };
  if (nowMs > entry.timestamp + Math.max(entry.expire, minExpireS) * 1000) return { state: "expired" };
  const byTag = tagVerdict(entry.version, tags, stamps, nowMs, true);
  if (byTag?.kind === "expired") return { state: "tag-expired", tag: byTag.tag };
  if (byTag) return { state: "stale", tag: byTag.tag };
  if (nowMs > entry.timestamp + entry.revalidate * 1000) return { state: "stale" };
  return { state: "fresh" };
}

/** How far past `now` a stale entry shown to a lock loser stays "within its revalidate", in ms. */
export const PRESENT_MARGIN_MS = 1000;

/** A new stream over `bytes` (one per `get`). */
export function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}

/**
 * The entry as Next.js gets it. Fresh: as stored. Stale, and this instance won the regeneration lock:
 * past its `revalidate` (as stored when time made it stale, `revalidate: -1` when a tag did, as Next.js's
 * default handler does), so Next.js serves it and regenerates it here. Stale, and another instance holds
 * the lock: presented as still within its `revalidate`, so Next.js serves it without regenerating: its
 * `timestamp` is moved forward just enough (never past `now`), and nothing else changes, so the
 * `revalidate` and `expire` that Next.js propagates to enclosing caches stay the entry's own.
 */
export function presentEntry(entry: StoredHandlerEntry, state: "fresh" | "stale", regenerate: boolean, nowMs: number): CacheEntry {
  const shown: CacheEntry = {
    value: streamOf(entry.value),
    tags: [...entry.tags],
    stale: entry.stale,
    timestamp: entry.timestamp,
    expire: entry.expire,
    revalidate: entry.revalidate,
  };
  if (state === "fresh") return shown;
  const pastRevalidate = nowMs > entry.timestamp + entry.revalidate * 1000;
  if (regenerate) {
    if (!pastRevalidate) shown.revalidate = -1;
    return shown;
  }
  if (pastRevalidate) shown.timestamp = Math.min(nowMs, nowMs - entry.revalidate * 1000 + PRESENT_MARGIN_MS);
  return shown;
}
