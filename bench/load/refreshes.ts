/**
 * What the load run's refreshes did, from two sources: the server's own refresh events (bench/load/example.ts:
 * every refresh that ran, via the refresh route or in process while QStash failed) and the QStash server's
 * message log (what was published: single refreshes and batches).
 *
 * A refresh "ran" when its job ran (a `refresh-done` event, written or not). Two refreshes ran in one window
 * when, for one entry, a refresh began before the previous one had written: two refreshes for one stale
 * period. A refresh that begins after the previous one wrote belongs to a later stale period (the entry went
 * stale again), and is not counted.
 */
import type { RefreshBatch, RefreshMessage } from "../../src/message.js";
import type { MessageRecord } from "../../src/qstash/message-record.js";
import type { RefreshEvent } from "./example.js";

/** Refresh figures of one phase (or of the whole run). */
export interface RefreshCounts {
  /** Refreshes whose job ran, by the way they came: delivered by QStash to the route, or run in process. */
  ranViaQueue: number;
  ranInProcess: number;
  /** Of those, the ones that wrote the entry. */
  written: number;
  /** Refreshes whose job failed (thrown, timed out, or the write failed). */
  failed: number;
  /** QStash messages published, and the refreshes they carried. */
  messages: number;
  refreshesInMessages: number;
}

/** The refresh figures of a run. */
export interface RefreshAnalysis {
  byPhase: RefreshCounts[];
  total: RefreshCounts;
  /** Refreshes that began before the previous refresh of their entry had written (a second refresh for one stale period). */
  overlapping: number;
  /** A few of them, for the report: `key: began X ms before the previous one wrote`. */
  overlapExamples: string[];
}

const FALLBACK_MATCH_MS = 15_000;

const zero = (): RefreshCounts => ({ ranViaQueue: 0, ranInProcess: 0, written: 0, failed: 0, messages: 0, refreshesInMessages: 0 });

/** The refreshes a QStash message carries (one, or a batch's). */
export function refreshesOf(message: Pick<MessageRecord, "body">): RefreshMessage[] {
  try {
    const body = JSON.parse(message.body ?? "{}") as RefreshMessage | RefreshBatch;
    return body.v === 2 ? body.refreshes : [body];
  } catch {
    return [];
  }
}

/**
 * Counts per phase (`phaseOf` maps a time, ms since the epoch, to a phase index) for `job`. A refresh ran in
 * process when this process reported a `refresh-fallback` for its key that is still unmatched; otherwise it
 * came through the queue.
 */
export function analyseRefreshes(events: readonly RefreshEvent[], messages: readonly MessageRecord[], job: string, phases: number, phaseOf: (at: number) => number): RefreshAnalysis {
  const byPhase = Array.from({ length: phases }, zero);
  const total = zero();
  const add = (at: number, f: (c: RefreshCounts) => void) => {
    f(byPhase[phaseOf(at)]!);
    f(total);
  };
  // A fallback is matched with its key's next refresh-done or refresh-failed within FALLBACK_MATCH_MS (a
  // fallback refresh that found the entry fresh already ends without an event).
  const fallbacksPending = new Map<string, number[]>();
  const runs = new Map<string, { start: number; end: number }[]>();
  for (const e of events) {
    if (e.job !== job) continue;
    if (e.type === "refresh-fallback") {
      (fallbacksPending.get(e.key) ?? fallbacksPending.set(e.key, []).get(e.key)!).push(e.at);
      continue;
    }
    if ((e.type !== "refresh-done" && e.type !== "refresh-failed") || e.sync) continue;
    const pending = (fallbacksPending.get(e.key) ?? []).filter((at) => e.at - at <= FALLBACK_MATCH_MS);
    const inProcess = pending.length > 0;
    fallbacksPending.set(e.key, pending.slice(1));
    if (e.type === "refresh-failed") {
      add(e.at, (c) => c.failed++);
      continue;
    }
    add(e.at, (c) => {
      if (inProcess) c.ranInProcess++;
      else c.ranViaQueue++;
      if (e.written) c.written++;
    });
    (runs.get(e.key) ?? runs.set(e.key, []).get(e.key)!).push({ start: e.at - (e.durationMs ?? 0), end: e.at });
  }
  for (const m of messages) {
    const items = refreshesOf(m).filter((r) => r.job === job);
    if (items.length === 0) continue;
    add(m.createdAt, (c) => {
      c.messages++;
      c.refreshesInMessages += items.length;
    });
  }
  let overlapping = 0;
  const overlapExamples: string[] = [];
  for (const [key, list] of runs) {
    list.sort((a, b) => a.end - b.end);
    for (let i = 1; i < list.length; i++) {
      const gap = list[i - 1]!.end - list[i]!.start;
      if (gap <= 0) continue;
      overlapping++;
      if (overlapExamples.length < 5) overlapExamples.push(`${key}: began ${gap} ms before the previous refresh wrote`);
    }
  }
  return { byPhase, total, overlapping, overlapExamples };
}

/** QStash messages published for `job`, by the last delivery's outcome and by state. */
export function messageOutcomes(messages: readonly MessageRecord[], job: string) {
  const mine = messages.filter((m) => refreshesOf(m).some((r) => r.job === job));
  const count = (values: string[]) => values.reduce<Record<string, number>>((o, v) => ({ ...o, [v]: (o[v] ?? 0) + 1 }), {});
  return {
    published: mine.length,
    delivered: mine.filter((m) => m.state === "DELIVERED").length,
    failed: mine.filter((m) => m.state === "FAILED").length,
    pending: mine.filter((m) => !["DELIVERED", "FAILED", "CANCELLED"].includes(m.state)).length,
    retried: mine.filter((m) => m.attempts.length > 1).length,
    attemptStatuses: count(mine.flatMap((m) => m.attempts.map((a) => String(a.status ?? a.error ?? "none")))),
    otherJobs: messages.length - mine.length,
  };
}
