import { entryState, type Envelope } from "../entry.js";
import type { TagVerdict } from "../tags/stamps.js";

/** Why a read found what it found, beyond its status. */
export type StatusReason =
  /** A fresh entry: nothing to explain. */
  | "fresh"
  /** Past its lifetime. */
  | "lifetime"
  /** Marked stale by `invalidate`. */
  | "invalidated"
  /** Made stale (`revalidateTag`) or expired (`updateTag`) by one of its tags: see `tag`. */
  | "tag"
  /** Nothing stored under the key (never written, deleted, or past its `ttl`). */
  | "absent"
  /** Something is stored under the key, but not a readable entry. */
  | "unreadable"
  /** The store did not answer (in time): the read fell back to the fetcher. */
  | "store-error";

/** The state of an entry for one read, and why. */
export interface ReadState {
  state: "miss" | "fresh" | "stale" | "too-stale";
  reason: StatusReason;
  /** The tag that made the entry stale or expired it. */
  tag?: string;
}

/**
 * The read path's decision (pure): the entry's own timestamps, then what its tags' stamps say. A tag
 * that expired the entry makes it a miss; one that revalidated it makes a fresh entry stale.
 * @param now milliseconds since the epoch
 * @param fetchOnStaleThresholdSec seconds; a stale entry older than this is `too-stale`
 */
export function decide(entry: Envelope | undefined, verdict: TagVerdict | undefined, now: number, fetchOnStaleThresholdSec?: number): ReadState {
  if (!entry) return { state: "miss", reason: "absent" };
  if (verdict?.kind === "expired") return { state: "miss", reason: "tag", tag: verdict.tag };
  const state = entryState(entry, now, fetchOnStaleThresholdSec);
  if (state === "fresh") return verdict ? { state: "stale", reason: "tag", tag: verdict.tag } : { state, reason: "fresh" };
  if (verdict) return { state, reason: "tag", tag: verdict.tag };
  return { state, reason: entry.freshUntil === 0 ? "invalidated" : "lifetime" };
}
