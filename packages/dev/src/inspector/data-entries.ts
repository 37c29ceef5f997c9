/**
 * Rows for next-cacheback's data entries, read without loading their values: the envelope's header is at
 * the start of the stored string and its tags at the end, so a `GETRANGE` of each end (with `STRLEN` and
 * `PTTL`) tells everything the list shows, whatever the size of the value.
 */
import type { Redis } from "@upstash/redis";
import { decodeEnvelope, entryState, readHeader, tagVerdict, type EnvelopeHeader, type TagStamp } from "next-cacheback";
import { decodeEntryId } from "./keys.js";
import { lockedUntil, num, readStamps, stampsOf, text, type EntryRow, type EntryStatus, type Reply } from "./rows.js";

/** Bytes read from the start of a value: the header (`{"writtenAt":…,"freshUntil":…,"version":…,"value":`). */
const HEAD_BYTES = 128;
/** Bytes read from the end of a value, where the tags are; a longer tags part is read again whole. */
const TAIL_BYTES = 2048;
/** The most the tags part can take (64 tags of 256 characters, every one escaped). */
const TAGS_MAX_BYTES = 64 * 1024;

const TAGS_MARK = ',"tags":[';

/**
 * The tags at the end of a stored envelope: the last `,"tags":[...]}` whose list is a JSON list of tags,
 * checked with `decodeEnvelope` (a JSON string never holds an unescaped `"`, so no tag can fake the mark).
 * `[]` for an entry without tags; `undefined` when the tail does not reach the start of its tags.
 */
export function tagsFromTail(tail: string): string[] | undefined {
  if (!tail.endsWith("]}")) return [];
  for (let at = tail.lastIndexOf(TAGS_MARK); at !== -1; at = at === 0 ? -1 : tail.lastIndexOf(TAGS_MARK, at - 1)) {
    const list = tail.slice(at + TAGS_MARK.length - 1, -1);
    const probe = decodeEnvelope(`{"writtenAt":0,"freshUntil":0,"version":0,"value":null,"tags":${list}}`);
    if (probe?.tags) return probe.tags;
  }
  return tail.includes('"]}') ? undefined : [];
}

/** Status and reason of a data entry, as the read path decides them (`decide` in the library). */
export function dataStatus(header: EnvelopeHeader, tags: readonly string[], stamps: readonly (TagStamp | null)[], nowMs: number): { status: EntryStatus; reason: string } {
  const verdict = tagVerdict(header.version, tags, stamps, nowMs);
  if (verdict?.kind === "expired") return { status: "expired-by-tag", reason: `tag ${verdict.tag} (updateTag): the next read fetches` };
  if (verdict) return { status: "stale-by-tag", reason: `tag ${verdict.tag} (revalidateTag)` };
  if (entryState(header, nowMs) === "fresh") return { status: "fresh", reason: "" };
  return { status: "stale", reason: header.freshUntil === 0 ? "invalidated" : "past its lifetime" };
}

/** Reads the rows of data entries `keys` under `prefix`: one pipeline, one `MGET` of stamps, rarely a second read of long tags. */
export async function describeDataEntries(redis: Redis, prefix: string, keys: readonly string[], nowMs: number): Promise<EntryRow[]> {
  if (keys.length === 0) return [];
  const entryPrefix = `${prefix}entry:`;
  const pipeline = redis.pipeline();
  for (const key of keys) {
    pipeline.getrange(key, 0, HEAD_BYTES - 1);
    pipeline.getrange(key, -TAIL_BYTES, -1);
    pipeline.strlen(key);
    pipeline.pttl(key);
    pipeline.pttl(`${prefix}lock:${key.slice(entryPrefix.length)}`);
  }
  const replies = (await pipeline.exec({ keepErrors: true })) as Reply[];
  const read = keys.map((key, index) => {
    const [head, tail, size, pttl, lockPttl] = replies.slice(index * 5, index * 5 + 5);
    return { key, head: text(head), tail: text(tail) ?? "", size: num(size, 0), pttlMs: num(pttl, -2), lockPttlMs: num(lockPttl, -2) };
  });
  const tagsByKey = new Map<string, string[] | undefined>(read.map((r) => [r.key, tagsFromTail(r.tail)]));
  const longTags = read.filter((r) => tagsByKey.get(r.key) === undefined && r.size > TAIL_BYTES).map((r) => r.key);
  if (longTags.length > 0) {
    const again = redis.pipeline();
    for (const key of longTags) again.getrange(key, -TAGS_MAX_BYTES, -1);
    const tails = (await again.exec({ keepErrors: true })) as Reply[];
    longTags.forEach((key, index) => tagsByKey.set(key, tagsFromTail(text(tails[index]) ?? "")));
  }
  const stamps = await readStamps(redis, prefix, [...tagsByKey.values()].flatMap((tags) => tags ?? []));

  return read.map(({ key, head, size, pttlMs, lockPttlMs }) => {
    const id = key.slice(entryPrefix.length);
    const decoded = decodeEntryId(id);
    const header = head === null ? undefined : readHeader(head);
    const tags = tagsByKey.get(key) ?? [];
    const judged = header
      ? dataStatus(header, tags, stampsOf(tags, stamps), nowMs)
      : { status: "unreadable" as const, reason: head === null ? "not a string, or gone" : "not a next-cacheback entry" };
    return {
      key,
      id,
      job: decoded.job,
      args: decoded.args === undefined || decoded.args.length === 0 ? null : JSON.stringify(decoded.args),
      hash: decoded.hash ?? null,
      ...judged,
      writtenAt: header?.writtenAt ?? null,
      freshUntil: header?.freshUntil ?? null,
      pttlMs,
      size,
      tags,
      lockedUntil: lockedUntil(lockPttlMs, nowMs),
    };
  });
}
