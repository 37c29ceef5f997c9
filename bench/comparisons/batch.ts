/**
 * 11. One message for many refreshes: one process reads N stale entries in one burst (as a page that reads
 * them during one render), with the default `batchWindow` and with `batchWindow: 0`. QStash messages are
 * counted at the dev QStash server, Redis commands at the REST server, refreshes by the entries found
 * refreshed in Redis afterwards. The refresh route is the benchmark's (the source answers in 50 ms here).
 */
import { Client } from "@upstash/qstash";
import { JOB, upstashClient } from "../lib/contenders.js";
import type { BenchContext } from "../lib/context.js";
import { until } from "../lib/measure.js";
import { lib } from "../lib/package.js";
import { table, type Section } from "../lib/report.js";

/** Sizes of comparison 11. */
export interface BatchOptions {
  /** Stale entries the page reads. */
  entries: number;
}

/** One setting of `batchWindow`. */
export interface BatchRow {
  /** `batchWindow` in ms; `undefined`: the default. */
  batchWindow: number | undefined;
  entries: number;
  /** Reads that served the stale value. */
  servedStale: number;
  messages: number;
  /** Entries found refreshed afterwards. */
  refreshed: number;
  /** Redis commands at the REST server for the burst, its locks and publishes, and the refreshes. */
  commands: number;
  /** HTTP requests to the REST server for the same. */
  requests: number;
}

export interface BatchResult {
  options: BatchOptions;
  rows: BatchRow[];
  sourceDelayMs: number;
}

const SOURCE_DELAY_MS = 50;
const VALUE = { from: "seed", body: "y".repeat(400) };

/** Runs comparison 11. */
export async function runBatching(ctx: BenchContext, options: BatchOptions): Promise<BatchResult> {
  const saved = ctx.source.delayMs;
  ctx.source.delayMs = SOURCE_DELAY_MS;
  try {
    const rows: BatchRow[] = [];
    for (const batchWindow of [undefined, 0]) rows.push(await burst(ctx, options.entries, batchWindow));
    return { options, rows, sourceDelayMs: SOURCE_DELAY_MS };
  } finally {
    ctx.source.delayMs = saved;
  }
}

async function burst(ctx: BenchContext, entries: number, batchWindow: number | undefined): Promise<BatchRow> {
  const config = ctx.config("next-cacheback", { freshMs: 3_600_000, staleMs: 86_400_000 });
  // The prefix and job of the benchmark's refresh route, which runs these refreshes.
  const cb = new lib.Cacheback({
    redis: upstashClient(config),
    qstash: new Client({ baseUrl: config.qstashUrl, token: config.qstashToken }),
    refreshUrl: config.refreshUrl,
    prefix: `${config.prefix}:`,
    defaults: { lifetime: 3600, ttl: 90_000 },
    ...(batchWindow === undefined ? {} : { batchWindow }),
  });
  const marker = `batch-w${batchWindow ?? "default"}-`;
  const keys = Array.from({ length: entries }, (_, i) => `${marker}${i}`);
  await Promise.all(keys.map((key) => cb.set([JOB, key], VALUE, { lifetime: 0 })));
  const fetcher = async () => {
    throw new Error("a stale read ran the fetcher synchronously");
  };
  await ctx.servers.idle();
  await ctx.servers.resetStats();
  const reads = await Promise.all(keys.map((key) => cb.fetchWithStatus([JOB, key], fetcher)));
  await Promise.all(reads.map((r) => r.background));
  const isRefreshed = async (key: string) => ((await ctx.admin.get(cb.key([JOB, key]))) ?? "").includes('"from":"origin"');
  await until(`the refreshes of ${marker}*`, async () => (await Promise.all(keys.map(isRefreshed))).every(Boolean), 30_000, 100);
  await ctx.servers.idle();
  const { stats } = await ctx.servers.stats();
  return {
    batchWindow,
    entries,
    servedStale: reads.filter((r) => r.status === "stale").length,
    messages: (await ctx.servers.messages(marker)).total,
    refreshed: (await Promise.all(keys.map(isRefreshed))).filter(Boolean).length,
    commands: stats.commands,
    requests: stats.requests,
  };
}

/** RESULTS.md section of comparison 11. */
export function batchSection(r: BatchResult): Section {
  const n = r.options.entries;
  const label = (w: number | undefined) => (w === undefined ? "default (`batchWindow` 10 ms)" : `\`batchWindow: ${w}\``);
  const body = [
    `One process reads ${n} stale entries at once (one burst, as a page that reads them during one render); each read serves the stale ` +
      `value and asks for a refresh. QStash messages counted at the dev QStash server; the refreshes run in the benchmark's refresh route ` +
      `(source ${r.sourceDelayMs} ms); Redis commands and HTTP requests at the REST server, from the burst until every refresh has landed.`,
    "",
    table(
      ["setting", "stale entries read", "served stale", "QStash messages", "entries refreshed", "messages per refreshed entry", "Redis commands", "HTTP requests to Redis"],
      r.rows.map((x) => [label(x.batchWindow), x.entries, x.servedStale, x.messages, x.refreshed, (x.messages / Math.max(1, x.refreshed)).toFixed(2), x.commands, x.requests]),
    ),
    "",
    `- With the default window the ${n} refreshes travel in one message (up to \`batchSize\`, 100, per message); the route runs them ` +
      `8 at a time, each under its own lock token and compare-and-set. With \`batchWindow: 0\` each refresh is a message of its own.`,
    `- On Upstash's price list a message costs $1 per 100K, and the free plan allows 1,000 a day: ${n} stale reads in one page ` +
      `use ${r.rows[0]?.messages ?? "?"} of them instead of ${r.rows[1]?.messages ?? "?"}.`,
  ].join("\n");
  return { title: "11. One message for many refreshes", body };
}
