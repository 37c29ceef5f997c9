/**
 * Rows for the `'use cache: remote'` handler's entries (`<prefix>hentry:<key>`). Their stored text starts
 * with everything the list needs: `cbh1 <version>`, a JSON line with `timestamp`, `revalidate`, `expire`
 * and `stale`, then one tag per line and an empty line; the value (base64) comes after and is never read here.
 */
import type { Redis } from "@upstash/redis";
import { tagVerdict, type TagStamp } from "next-cacheback";
import { lockedUntil, num, readStamps, stampsOf, text, type EntryRow, type EntryStatus, type Reply } from "./rows.js";

/** Bytes read from the start of a page entry; a longer tags part is read again, up to {@link HEAD_MAX_BYTES}. */
const HEAD_BYTES = 4096;
const HEAD_MAX_BYTES = 80 * 1024;

const HEAD = /^cbh1 (\d+)\n(\{"timestamp":[^\n]*\})\n/;

/** The head of a page entry, decoded. */
export interface PageHead {
  version: number;
  timestamp: number;
  revalidate: number;
  expire: number;
  tags: string[];
}

/** Decodes the head of a page entry; `null` when it is not one, `undefined` when `head` stops inside its tags. */
export function parsePageHead(head: string): PageHead | null | undefined {
  const match = HEAD.exec(head);
  if (!match) return null;
  let meta: { timestamp?: unknown; revalidate?: unknown; expire?: unknown };
  try {
    meta = JSON.parse(match[2] as string) as typeof meta;
  } catch {
    return null;
  }
  const { timestamp, revalidate, expire } = meta;
  if (typeof timestamp !== "number" || typeof revalidate !== "number" || typeof expire !== "number") return null;
  const tags: string[] = [];
  let at = match[0].length;
  for (;;) {
    const end = head.indexOf("\n", at);
    if (end < 0) return undefined;
    if (end === at) break;
    tags.push(head.slice(at, end));
    at = end + 1;
  }
  return { version: Number(match[1]), timestamp, revalidate, expire, tags };
}

/**
 * Status of a page entry, in the handler's order (`judgeEntry`): evicted or past `expire`, then its tags'
 * stamps (a pages-only stamp makes a page stale too), then past `revalidate`. Soft tags (the paths
 * `revalidatePath` stamps) are not stored on the entry, so they are not judged here.
 */
export function pageStatus(head: PageHead, stamps: readonly (TagStamp | null)[], nowMs: number): { status: EntryStatus; reason: string } {
  if (head.expire < 0) return { status: "expired", reason: "evicted" };
  if (nowMs > head.timestamp + head.expire * 1000) return { status: "expired", reason: "past its expire" };
  const verdict = tagVerdict(head.version, head.tags, stamps, nowMs, true);
  if (verdict?.kind === "expired") return { status: "expired-by-tag", reason: `tag ${verdict.tag}` };
  if (verdict) return { status: "stale-by-tag", reason: `tag ${verdict.tag}` };
  if (nowMs > head.timestamp + head.revalidate * 1000) return { status: "stale", reason: "past its revalidate" };
  return { status: "fresh", reason: "" };
}

/** Reads the rows of page entries `keys` under `prefix`. */
export async function describePageEntries(redis: Redis, prefix: string, keys: readonly string[], nowMs: number): Promise<EntryRow[]> {
  if (keys.length === 0) return [];
  const entryPrefix = `${prefix}hentry:`;
  const pipeline = redis.pipeline();
  for (const key of keys) {
    pipeline.getrange(key, 0, HEAD_BYTES - 1);
    pipeline.strlen(key);
    pipeline.pttl(key);
    pipeline.pttl(`${prefix}hlock:${key.slice(entryPrefix.length)}`);
  }
  const replies = (await pipeline.exec({ keepErrors: true })) as Reply[];
  const read = keys.map((key, index) => {
    const [head, size, pttl, lockPttl] = replies.slice(index * 4, index * 4 + 4);
    const raw = text(head);
    return { key, raw, head: raw === null ? null : parsePageHead(raw), size: num(size, 0), pttlMs: num(pttl, -2), lockPttlMs: num(lockPttl, -2) };
  });
  const long = read.filter((r) => r.head === undefined && r.size > HEAD_BYTES);
  if (long.length > 0) {
    const again = redis.pipeline();
    for (const r of long) again.getrange(r.key, 0, HEAD_MAX_BYTES - 1);
    const heads = (await again.exec({ keepErrors: true })) as Reply[];
    long.forEach((r, index) => {
      const raw = text(heads[index]);
      r.head = raw === null ? null : parsePageHead(raw);
    });
  }
  const stamps = await readStamps(redis, prefix, read.flatMap((r) => r.head?.tags ?? []));
  return read.map(({ key, head, size, pttlMs, lockPttlMs }) => {
    const judged = head
      ? pageStatus(head, stampsOf(head.tags, stamps), nowMs)
      : { status: "unreadable" as const, reason: "not a cache-handler entry" };
    const id = key.slice(entryPrefix.length);
    return {
      key,
      id,
      job: null,
      args: null,
      hash: /^#[0-9a-f]{64}$/.test(id) ? id.slice(1) : null,
      ...judged,
      writtenAt: head?.timestamp ?? null,
      freshUntil: head ? head.timestamp + head.revalidate * 1000 : null,
      pttlMs,
      size,
      tags: head?.tags ?? [],
      lockedUntil: lockedUntil(lockPttlMs, nowMs),
    };
  });
}
