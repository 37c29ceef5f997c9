/** What the page shows for one query: the four fragments, built from Redis and the QStash engine at one instant. */
import type { Redis } from "@upstash/redis";
import type { DeliveryEngine } from "next-cacheback/delivery";
import type { EntryKind } from "./keys.js";
import { listEntries, listLocks } from "./listing.js";
import { messageRows } from "./messages.js";
import { renderEntries, renderLocks } from "./render-entries.js";
import { renderDeadLetters, renderMessages } from "./render-messages.js";

/** The page's state, as its query string carries it. */
export interface ViewQuery {
  prefix: string;
  kind: EntryKind;
  job: string;
  key: string;
  tag: string;
  /** The SCAN cursor the entries page starts from ("0": the first page). */
  cursor: string;
  pageSize: number;
  /** How many messages of the log to show. */
  messages: number;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_MESSAGES = 20;

function whole(value: string | null, fallback: number, max: number): number {
  const n = Number(value);
  return value !== null && /^\d+$/.test(value) && n >= 1 ? Math.min(n, max) : fallback;
}

/** Reads a query string; anything missing or malformed takes its default. */
export function parseQuery(params: URLSearchParams, defaultPrefix: string): ViewQuery {
  const cursor = params.get("cursor") ?? "0";
  return {
    prefix: params.get("prefix") || defaultPrefix,
    kind: params.get("kind") === "page" ? "page" : "data",
    job: params.get("job")?.trim() ?? "",
    key: params.get("key")?.trim() ?? "",
    tag: params.get("tag")?.trim() ?? "",
    cursor: /^\d+$/.test(cursor) ? cursor : "0",
    pageSize: whole(params.get("size"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
    messages: whole(params.get("messages"), DEFAULT_MESSAGES, 1000),
  };
}

/** The fragments of a snapshot, and when it was taken. */
export interface ViewSnapshot {
  at: number;
  /** The prefix the entries and locks are listed under. */
  prefix: string;
  entries: string;
  locks: string;
  messages: string;
  deadLetters: string;
  deadLetterCount: number;
  /** The cursor of the entries page after this one ("0": none). */
  nextCursor: string;
}

/** Builds what the page shows for `query`, now. */
export async function snapshot(redis: Redis, engine: DeliveryEngine, query: ViewQuery): Promise<ViewSnapshot> {
  const now = Date.now();
  const filter = { job: query.job, key: query.key, tag: query.tag };
  const [page, locks] = await Promise.all([
    listEntries(redis, { ...filter, prefix: query.prefix, kind: query.kind, cursor: query.cursor, pageSize: query.pageSize }, now),
    listLocks(redis, query.prefix, now),
  ]);
  const all = engine.messages();
  const log = messageRows(all, filter, query.messages);
  const letters = engine.deadLetters();
  const dead = messageRows(letters, filter, 100);
  return {
    at: now,
    prefix: query.prefix,
    entries: renderEntries(page, query.kind, now, query.cursor === "0").text,
    locks: renderLocks(locks, now).text,
    messages: renderMessages({ ...log, total: all.length }, now).text,
    deadLetters: renderDeadLetters({ ...dead, total: letters.length }, now).text,
    deadLetterCount: letters.length,
    nextCursor: page.cursor,
  };
}
