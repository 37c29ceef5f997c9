/** The QStash message log and dead-letter queue, as rows: what each message refreshes and what each delivery got back. */
import type { MessageRecord } from "next-cacheback/delivery";

/** Where a message is, in plain words. */
export type MessageStatus = "waiting" | "delivering" | "retrying" | "delivered" | "dead-lettered" | "redelivered" | "cancelled";

/** One refresh a message carries. */
export interface CarriedRefresh {
  job: string;
  /** The arguments as compact JSON. */
  args: string;
  tags: string[];
}

/** One message of the log. */
export interface MessageRow {
  id: string;
  dlqId: string | null;
  status: MessageStatus;
  createdAt: number;
  url: string;
  /** The refreshes in its body (one, or a batch); empty when the body is not a refresh message. */
  refreshes: CarriedRefresh[];
  /** The start of the body, when it is not a refresh message. */
  bodyExcerpt: string;
  /** Every delivery so far, oldest first, with its answer. */
  attempts: { status: number | null; error: string | null; body: string; at: number; durationMs: number }[];
  maxRetries: number;
  nextDeliveryAt: number | null;
  redeliveryOf: string | null;
  redeliveredAs: string | null;
}

/** Which messages to show. */
export interface MessageFilter {
  job?: string | undefined;
  key?: string | undefined;
  tag?: string | undefined;
}

function statusOf(record: MessageRecord): MessageStatus {
  switch (record.state) {
    case "CREATED":
      return "waiting";
    case "ACTIVE":
      return "delivering";
    case "RETRY":
      return "retrying";
    case "DELIVERED":
      return "delivered";
    case "CANCELLED":
      return "cancelled";
    case "FAILED":
      return record.dlqId !== undefined ? "dead-lettered" : "redelivered";
  }
}

function refreshOf(item: unknown): CarriedRefresh | undefined {
  if (typeof item !== "object" || item === null) return undefined;
  const { job, args, tags } = item as { job?: unknown; args?: unknown; tags?: unknown };
  if (typeof job !== "string" || !Array.isArray(args)) return undefined;
  return { job, args: JSON.stringify(args), tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === "string") : [] };
}

/** The refreshes in a message body: a single refresh (format 1) or a batch (format 2). */
export function refreshesIn(body: string | undefined): CarriedRefresh[] {
  if (body === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  if (typeof parsed !== "object" || parsed === null) return [];
  const { v, refreshes } = parsed as { v?: unknown; refreshes?: unknown };
  if (v === 2 && Array.isArray(refreshes)) return refreshes.map(refreshOf).filter((r): r is CarriedRefresh => r !== undefined);
  const single = v === 1 ? refreshOf(parsed) : undefined;
  return single ? [single] : [];
}

/** A message as a row. */
export function messageRow(record: MessageRecord): MessageRow {
  const refreshes = refreshesIn(record.body);
  return {
    id: record.messageId,
    dlqId: record.dlqId ?? null,
    status: statusOf(record),
    createdAt: record.createdAt,
    url: record.url,
    refreshes,
    bodyExcerpt: refreshes.length > 0 ? "" : (record.body ?? `(binary, base64) ${record.bodyBase64 ?? ""}`).slice(0, 200),
    attempts: record.attempts.map((a) => ({ status: a.status ?? null, error: a.error ?? null, body: a.body ?? "", at: a.at, durationMs: a.durationMs })),
    maxRetries: record.maxRetries,
    nextDeliveryAt: record.nextDeliveryAt ?? null,
    redeliveryOf: record.redeliveryOf ?? null,
    redeliveredAs: record.redeliveredAs ?? null,
  };
}

/** Whether a message concerns what the filter asks for (a filter on job, key or tag needs a refresh message). */
export function matchesMessage(row: MessageRow, filter: MessageFilter): boolean {
  if (!filter.job && !filter.key && !filter.tag) return true;
  return row.refreshes.some(
    (r) =>
      (!filter.job || r.job === filter.job) &&
      (!filter.key || `${r.job}:${r.args}`.includes(filter.key)) &&
      (!filter.tag || r.tags.includes(filter.tag)),
  );
}

/** The newest `limit` messages of `records` the filter keeps, and how many it keeps in all. */
export function messageRows(records: readonly MessageRecord[], filter: MessageFilter, limit: number): { rows: MessageRow[]; matched: number } {
  const rows: MessageRow[] = [];
  let matched = 0;
  for (const record of records) {
    const row = messageRow(record);
    if (!matchesMessage(row, filter)) continue;
    matched += 1;
    if (rows.length < limit) rows.push(row);
  }
  return { rows, matched };
}
