/** What the inspector shows of one entry, whichever kind, and the Redis reads every kind shares. */
import type { Redis } from "@upstash/redis";
import { parseStamp, type TagStamp } from "next-cacheback";

/**
 * Where an entry stands: `fresh`; `stale` (past its lifetime or `revalidate`, or marked stale by an
 * invalidation); `stale-by-tag` / `expired-by-tag` (a tag's `revalidateTag` / `updateTag` stamp is newer than
 * its data); `expired` (a page entry past its `expire`: Redis removes it soon); `unreadable` (not an entry).
 */
export type EntryStatus = "fresh" | "stale" | "stale-by-tag" | "expired-by-tag" | "expired" | "unreadable";

/** One row of the entry list. */
export interface EntryRow {
  /** The whole Redis key. */
  key: string;
  /** The key without `<prefix>entry:` (or `<prefix>hentry:`). */
  id: string;
  /** The job (data entries), or `null` (page entries). */
  job: string | null;
  /** The arguments as compact JSON, decoded from the key; `null` when they are hashed, or for a page entry. */
  args: string | null;
  /** The SHA-256 of the arguments, for a key that holds it instead of them. */
  hash: string | null;
  status: EntryStatus;
  /** Why, in a few words: "invalidated", "past its lifetime", "tag posts"... */
  reason: string;
  /** When the data was written (ms since the epoch), when readable. */
  writtenAt: number | null;
  /** Until when the entry is fresh (ms since the epoch); 0 when marked stale. */
  freshUntil: number | null;
  /** Milliseconds before Redis removes the key (`PTTL`); -1 for none, -2 when it is gone already. */
  pttlMs: number;
  /** Size of the stored value in bytes (`STRLEN`). */
  size: number;
  /** The tags it carries (encoded as stored). */
  tags: string[];
  /** Until when (ms since the epoch) the entry's refresh or regeneration lock is held; `null` when it is not. */
  lockedUntil: number | null;
}

/** The result of one command of a pipeline run with `keepErrors`. */
export type Reply = { result: unknown; error?: string };

/** A reply's value as text (`null` when the command failed or found nothing). */
export function text(reply: Reply | undefined): string | null {
  return reply && reply.error === undefined && typeof reply.result === "string" ? reply.result : null;
}

/** A reply's value as a number (`fallback` when the command failed). */
export function num(reply: Reply | undefined, fallback: number): number {
  const value = reply && reply.error === undefined ? Number(reply.result) : Number.NaN;
  return Number.isFinite(value) ? value : fallback;
}

/** Until when a lock is held, from its `PTTL` (`null` when there is no lock). */
export function lockedUntil(pttlMs: number, nowMs: number): number | null {
  return pttlMs >= 0 ? nowMs + pttlMs : null;
}

/** The stamps of `tags` under `prefix`, in one `MGET` (a map from tag to its decoded stamp). */
export async function readStamps(redis: Redis, prefix: string, tags: Iterable<string>): Promise<Map<string, TagStamp | null>> {
  const unique = [...new Set(tags)];
  const stamps = new Map<string, TagStamp | null>();
  if (unique.length === 0) return stamps;
  const raw = await redis.mget<unknown[]>(...unique.map((tag) => `${prefix}tag:${tag}`));
  unique.forEach((tag, index) => stamps.set(tag, parseStamp(raw[index] ?? null)));
  return stamps;
}

/** The stamps of one entry's tags, in the order of its tags. */
export function stampsOf(tags: readonly string[], stamps: ReadonlyMap<string, TagStamp | null>): (TagStamp | null)[] {
  return tags.map((tag) => stamps.get(tag) ?? null);
}
