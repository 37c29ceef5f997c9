/**
 * Paged listings with Redis's `SCAN` cursor: a page is a few `SCAN` calls under the prefix (never `KEYS`,
 * never every value), and the cursor it ends on starts the next page. Filters narrow the `MATCH` pattern
 * where they can, and are checked exactly on what comes back.
 */
import type { Redis } from "@upstash/redis";
import { describeDataEntries } from "./data-entries.js";
import { decodeEntryId, globEscape, SEGMENTS, type EntryKind } from "./keys.js";
import { describePageEntries } from "./page-entries.js";
import { num, text, type EntryRow, type Reply } from "./rows.js";

/** What to list. */
export interface ListRequest {
  prefix: string;
  kind: EntryKind;
  /** Only this job's entries (exact name). */
  job?: string | undefined;
  /** Only keys whose id (job and arguments) contains this text. */
  key?: string | undefined;
  /** Only entries carrying this tag. */
  tag?: string | undefined;
  /** Where to start: "0" for the first page, else the `cursor` of the page before. */
  cursor: string;
  /** About how many rows a page holds (a page ends on a whole `SCAN` batch, so it may hold a few more). */
  pageSize: number;
}

/** One page of entries. */
export interface EntryPage {
  rows: EntryRow[];
  /** The cursor of the next page; "0" when this page reached the end. */
  cursor: string;
  /** How many keys `SCAN` went through for this page. */
  scanned: number;
}

/** At most this many `SCAN` calls per page, so a sparse filter over a large keyspace answers promptly (then "Next" goes on). */
const MAX_SCAN_CALLS = 40;
const MAX_SCAN_COUNT = 5000;

function entryPattern(req: ListRequest): string {
  const base = globEscape(req.prefix + SEGMENTS[req.kind].entry);
  if (req.kind === "data" && req.job) return `${base}${globEscape(req.job)}*`;
  return `${base}*${req.key ? `${globEscape(req.key)}*` : ""}`;
}

function keeps(req: ListRequest, key: string): boolean {
  const id = key.slice(req.prefix.length + SEGMENTS[req.kind].entry.length);
  if (req.key && !id.includes(req.key)) return false;
  if (req.kind === "data" && req.job && decodeEntryId(id).job !== req.job) return false;
  return true;
}

/** Lists one page of entries, with their status, size, expiry, tags and lock. */
export async function listEntries(redis: Redis, req: ListRequest, nowMs: number): Promise<EntryPage> {
  const rows: EntryRow[] = [];
  const match = entryPattern(req);
  let cursor = req.cursor;
  let count = Math.max(10, req.pageSize);
  let scanned = 0;
  for (let calls = 0; calls < MAX_SCAN_CALLS; calls++) {
    const [next, keys] = await redis.scan(cursor, { match, count, type: "string" });
    cursor = String(next);
    scanned += keys.length;
    const wanted = keys.filter((key) => keeps(req, key));
    const described = req.kind === "data" ? await describeDataEntries(redis, req.prefix, wanted, nowMs) : await describePageEntries(redis, req.prefix, wanted, nowMs);
    rows.push(...(req.tag ? described.filter((row) => row.tags.includes(req.tag as string)) : described));
    if (cursor === "0" || rows.length >= req.pageSize) break;
    // A sparse match: look at more keys per call.
    if (rows.length < req.pageSize / 2) count = Math.min(MAX_SCAN_COUNT, count * 2);
  }
  rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { rows, cursor, scanned };
}

/** A refresh lock (`<prefix>lock:`) or a regeneration lock of the cache handler (`<prefix>hlock:`). */
export interface LockRow {
  key: string;
  kind: EntryKind;
  /** The locked entry's id (the key without `<prefix>lock:` or `<prefix>hlock:`). */
  id: string;
  /** The holder's token. */
  token: string | null;
  /** Until when it is held, ms since the epoch (`null`: no expiry, or gone). */
  until: number | null;
}

/** The locks held under `prefix`, at most `limit` of them, in a bounded scan; `more` when some were left out. */
export async function listLocks(redis: Redis, prefix: string, nowMs: number, limit = 100): Promise<{ rows: LockRow[]; more: boolean }> {
  const found: string[] = [];
  let cursor = "0";
  let calls = 0;
  do {
    const [next, keys] = await redis.scan(cursor, { match: `${globEscape(prefix)}*lock:*`, count: 1000, type: "string" });
    cursor = String(next);
    for (const key of keys) {
      if (key.startsWith(`${prefix}lock:`) || key.startsWith(`${prefix}hlock:`)) found.push(key);
    }
    calls += 1;
  } while (cursor !== "0" && found.length < limit && calls < MAX_SCAN_CALLS);
  const keys = found.sort().slice(0, limit);
  if (keys.length === 0) return { rows: [], more: cursor !== "0" };
  const pipeline = redis.pipeline();
  for (const key of keys) {
    pipeline.get(key);
    pipeline.pttl(key);
  }
  const replies = (await pipeline.exec({ keepErrors: true })) as Reply[];
  const rows = keys.map((key, index): LockRow => {
    const kind: EntryKind = key.startsWith(`${prefix}lock:`) ? "data" : "page";
    const pttl = num(replies[index * 2 + 1], -2);
    return {
      key,
      kind,
      id: key.slice(prefix.length + SEGMENTS[kind].lock.length),
      token: text(replies[index * 2]),
      until: pttl >= 0 ? nowMs + pttl : null,
    };
  });
  return { rows: rows.filter((row) => row.token !== null), more: found.length > limit || cursor !== "0" };
}
