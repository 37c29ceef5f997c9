/**
 * 13. The bill: Redis commands and QStash messages per 1,000 page views of a page of 10 entries (the
 * workload of bench/lib/page-views.ts), for next-cacheback (batched, the default; `batchWindow: 0`; with
 * the memory tier) and each peer; then the monthly dollars at Upstash's list prices for a stated traffic.
 */
import type { BenchContext } from "../lib/context.js";
import { runVariants, VARIANTS, type PageViewRun, type Variant, type Workload } from "../lib/page-views.js";
import { table, type Section } from "../lib/report.js";

/** Upstash's list prices (pay as you go) and the QStash free plan's daily allowance. */
export const PRICES = { redisPer100k: 0.2, qstashPer100k: 1, freeMessagesPerDay: 1000 };

export interface BillResult {
  workload: Workload;
  /** The traffic the monthly figures are for, page views per second. */
  trafficPerSec: number;
  runs: PageViewRun[];
}

const LABEL: Record<Variant, string> = {
  "next-cacheback": "next-cacheback (default: batched)",
  "next-cacheback-batch0": "next-cacheback, `batchWindow: 0`",
  "next-cacheback-memory": "next-cacheback, `memory: { lifetime: 1 }`",
  "next-cacheback-staggered": "next-cacheback, entries going stale one by one",
  cachified: "@epic-web/cachified 5",
  bentocache: "bentocache 1 (Redis only)",
  unkey: "@unkey/cache 1",
};

const HOW: Record<Variant, string> = {
  "next-cacheback": "one instance wins a Redis lock and publishes a QStash message; the refresh route runs the job",
  "next-cacheback-batch0": "the same, one message per refresh",
  "next-cacheback-memory": "the same; fresh reads within 1 s of the last are served from this process's memory",
  "next-cacheback-staggered": "the same (default batching), but the 10 refreshes come at 10 different moments",
  cachified: "in the reading process, in the background (`waitUntil`); no lock shared across processes",
  bentocache: "in the reading process, in the background (grace period), under an in-process lock",
  unkey: "in the reading process (`waitUntil`), the source call shared within the process; each stale read that joined it writes the value",
};

/** Runs comparison 13, reusing runs already made with the same workload (comparison 12's). */
export async function runBill(ctx: BenchContext, workload: Workload, trafficPerSec: number, done: readonly PageViewRun[], log: (line: string) => void): Promise<BillResult> {
  return { workload, trafficPerSec, runs: await runVariants(ctx, VARIANTS, workload, done, log) };
}

/** Per 1,000 page views, and per month at `trafficPerSec`, in dollars. */
export function billOf(run: PageViewRun, trafficPerSec: number) {
  const perK = (x: number) => (x * 1000) / run.pageViews;
  const monthlyViews = trafficPerSec * 86_400 * 30;
  const redis = ((run.commands / run.pageViews) * monthlyViews * PRICES.redisPer100k) / 100_000;
  const qstash = ((run.messages / run.pageViews) * monthlyViews * PRICES.qstashPer100k) / 100_000;
  const messagesPerDay = (run.messages / run.pageViews) * trafficPerSec * 86_400;
  return { commandsPerK: perK(run.commands), messagesPerK: perK(run.messages), sourcePerK: perK(run.sourceCalls), redis, qstash, messagesPerDay };
}

/** ", N % of next-cacheback's reads stale", from its events. */
function staleShare(r: BillResult): string {
  const run = r.runs.find((x) => x.variant === "next-cacheback");
  const stale = run?.events?.stale;
  return run && stale !== undefined ? `; ${stale} of next-cacheback's ${run.reads} reads, ${((100 * stale) / run.reads).toFixed(2)} %, were stale` : "";
}

const dollars = (x: number) => `$${x < 10 ? x.toFixed(2) : Math.round(x).toLocaleString("en-US")}`;

/** RESULTS.md section of comparison 13. */
export function billSection(r: BillResult): Section {
  const w = r.workload;
  const t = r.trafficPerSec;
  const rows = r.runs.map((run) => ({ run, bill: billOf(run, t) }));
  const body = [
    `The workload of comparison 12 for every cache: one process serves a page of ${w.entries} entries, ${w.rate} page views a second for ` +
      `${w.durationS} s; entries are fresh for ${w.lifetimeS} s and were written together (by the page's first render), so the ` +
      `${w.entries} entries go stale together once in the run and are refreshed together (${w.entries} refreshes per ${w.rate * w.lifetimeS} page ` +
      `views: the steady mix of a ${w.lifetimeS} s lifetime at ${w.rate} page views/s${staleShare(r)}). One more next-cacheback row seeds the entries ` +
      `so that they go stale one by one, evenly spread over the lifetime (entries shared with other pages, or of different lifetimes). ` +
      `The source takes ${w.sourceDelayMs} ms. Every Redis command counts, the refresh route's and the peers' writes included (REST server; ` +
      `MONITOR for bentocache); QStash messages at the dev QStash server. Peers are set up as in the rest of this file, Redis only.`,
    "",
    table(
      ["cache", "Redis commands per 1,000 page views", "QStash messages per 1,000 page views", "source calls per 1,000 page views", "how a stale entry is refreshed"],
      rows.map(({ run, bill }) => [LABEL[run.variant], bill.commandsPerK.toFixed(0), bill.messagesPerK.toFixed(2), bill.sourcePerK.toFixed(2), HOW[run.variant]]),
    ),
    "",
    `**A month at ${t} page views/s** (${((t * 86_400 * 30) / 1e6).toFixed(0)} M page views, the same mix), at Upstash's list prices: ` +
      `$${PRICES.redisPer100k.toFixed(2)} per 100K Redis commands, $${PRICES.qstashPer100k} per 100K QStash messages (free plan: ` +
      `${PRICES.freeMessagesPerDay.toLocaleString("en-US")} messages a day).`,
    "",
    table(
      ["cache", "Redis", "QStash", "total per month", "QStash messages per day", "within the free plan's messages"],
      rows.map(({ run, bill }) => [
        LABEL[run.variant],
        dollars(bill.redis),
        dollars(bill.qstash),
        dollars(bill.redis + bill.qstash),
        Math.round(bill.messagesPerDay).toLocaleString("en-US"),
        bill.messagesPerDay <= PRICES.freeMessagesPerDay ? "yes" : "no",
      ]),
    ),
    "",
    `- Reads dominate the Redis bill: one command per entry per page view without the memory tier, for every cache here ` +
      `(bentocache's in-memory tier, not measured, would cut its reads as next-cacheback's does). The peers send no messages: they ` +
      `refresh inside the process that read the stale entry, which a serverless function frozen after its response may never finish ` +
      `(comparison 4), and each process refreshes on its own (comparison 3).`,
    `- Only what this one process did is counted; with several instances the reads scale with traffic alike, while next-cacheback's ` +
      `refreshes stay one per entry per lifetime across all of them.`,
  ].join("\n");
  return { title: "13. The bill side by side", body };
}
