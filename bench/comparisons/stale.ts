/**
 * 2. Stale read latency: while the slow source takes its time on a refresh, how long do readers of the
 * stale entry wait? Each cache serves a stale entry to readers for most of the source's delay, then,
 * once the refresh has landed, serves the same number of fresh hits with the same concurrency.
 */
import { LABELS, LIBRARIES, makeContender, type Library } from "../lib/contenders.js";
import type { BenchContext } from "../lib/context.js";
import { runFor, runLoad, summarize, until } from "../lib/measure.js";
import { ms, ratio, table, type Section } from "../lib/report.js";

/** Sizes of the stale-read comparison. */
export interface StaleOptions {
  /** Readers in flight at any moment: one run per value. */
  concurrency: number[];
  /** How long readers read the stale entry (inside the source's delay), ms. */
  windowMs: number;
}

/** One library's stale and fresh read latencies. */
export interface StaleRow {
  library: Library;
  concurrency: number;
  staleReads: number;
  /** Reads during the window that got the old (seeded) value. */
  servedStale: number;
  stale: { p50ms: number; p99ms: number; maxMs: number };
  hit: { p50ms: number; p99ms: number; maxMs: number };
  /** Times the source ran for this key. */
  sourceRuns: number;
  /** From the first stale read until the refreshed entry was in Redis, ms. */
  refreshLandedMs: number;
}

export interface StaleResult {
  rows: StaleRow[];
  options: StaleOptions;
  sourceDelayMs: number;
}

const PERIODS = { freshMs: 3_600_000, staleMs: 86_400_000 };
const SEED = { key: "seed", from: "seed", gen: 0, body: "y".repeat(400) };

/** Runs comparison 2 (the source delay is the context's). */
export async function runStaleReads(ctx: BenchContext, options: StaleOptions): Promise<StaleResult> {
  await warmUp(ctx);
  const rows: StaleRow[] = [];
  for (const concurrency of options.concurrency) {
    for (const library of LIBRARIES) rows.push(await staleRun(ctx, library, concurrency, options.windowMs));
  }
  return { rows, options, sourceDelayMs: ctx.source.delayMs };
}

/** Runs every library's stale path once beforehand (all at once), so no library is measured cold. */
async function warmUp(ctx: BenchContext): Promise<void> {
  await Promise.all(
    LIBRARIES.map(async (library) => {
      const contender = makeContender(library, ctx.config(library, PERIODS));
      const key = `stale-warm-${library}`;
      await contender.seedStale(key, SEED);
      await ctx.stored(contender.rawKey(key));
      for (let i = 0; i < 200; i++) await contender.read(key);
      await until(`the warm-up refresh of ${library}`, async () => ((await ctx.admin.get(contender.rawKey(key))) ?? "").includes('"from":"origin"'), ctx.source.delayMs + 10_000);
      await contender.close();
    }),
  );
  await until("the source to be idle", () => ctx.source.inFlight() === 0, 10_000);
}

async function staleRun(ctx: BenchContext, library: Library, concurrency: number, windowMs: number): Promise<StaleRow> {
  const contender = makeContender(library, ctx.config(library, PERIODS));
  const key = `stale-${library}-c${concurrency}`;
  const rawKey = contender.rawKey(key);
  await contender.seedStale(key, SEED);
  await ctx.stored(rawKey);
  let servedStale = 0;
  const started = performance.now();
  const staleLatencies = await runFor(
    async () => {
      const { value } = await contender.read(key);
      if ((value as { from?: string }).from === "seed") servedStale++;
    },
    windowMs,
    concurrency,
  );
  await until(`${library}'s refresh of ${key}`, async () => ((await ctx.admin.get(rawKey)) ?? "").includes('"from":"origin"'), ctx.source.delayMs + 10_000, 5);
  const refreshLandedMs = performance.now() - started;
  await until("the source to be idle", () => ctx.source.inFlight() === 0, 10_000);
  const hits = await runLoad(() => contender.read(key), staleLatencies.length, concurrency);
  await contender.close();
  return {
    library,
    concurrency,
    staleReads: staleLatencies.length,
    servedStale,
    stale: summarize(staleLatencies),
    hit: { p50ms: hits.p50ms, p99ms: hits.p99ms, maxMs: hits.maxMs },
    sourceRuns: ctx.source.counts(key).started,
    refreshLandedMs,
  };
}

/** RESULTS.md section of comparison 2. */
export function staleSection(result: StaleResult): Section {
  const o = result.options;
  const ours = result.rows.filter((r) => r.library === "next-cacheback");
  const ratioRange = (xs: number[]) =>
    xs.length === 1 ? ratio(xs[0]!) : `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}×`;
  const body = [
    `The entry is stale and the source takes ${result.sourceDelayMs} ms. Readers (${o.concurrency.join(" or ")} in flight) read it for ` +
      `${o.windowMs} ms, all inside the refresh; then, once the refreshed entry is in Redis, the same number of reads are fresh hits.`,
    "",
    table(
      ["cache", "in flight", "reads during refresh", "served the stale value", "stale p50 ms", "stale p99 ms", "stale max ms", "hit p50 ms", "hit p99 ms", "p50 stale ÷ hit", "p99 stale ÷ hit", "source runs", "refresh landed after ms"],
      result.rows.map((r) => [
        LABELS[r.library],
        r.concurrency,
        r.staleReads,
        r.servedStale,
        ms(r.stale.p50ms),
        ms(r.stale.p99ms),
        ms(r.stale.maxMs),
        ms(r.hit.p50ms),
        ms(r.hit.p99ms),
        ratio(r.stale.p50ms / r.hit.p50ms),
        ratio(r.stale.p99ms / r.hit.p99ms),
        r.sourceRuns,
        Math.round(r.refreshLandedMs),
      ]),
    ),
    "",
    `- Every cache here serves a stale entry without waiting for the source: the slowest stale read of any of them took ` +
      `${ms(Math.max(...result.rows.map((r) => r.stale.maxMs)))} ms, against the source's ${result.sourceDelayMs} ms.`,
    `- next-cacheback's stale reads cost about ${ratioRange(ours.map((r) => r.stale.p50ms / r.hit.p50ms))} its hits at p50. A stale read ` +
      `costs one \`GET\`, like a hit; in the background a process tries the shared refresh lock (\`SET NX\`) at most once per entry ` +
      `every 250 ms until the refresh lands. The peers deduplicate the refresh in memory only, which is why their refresh runs once ` +
      `per instance (comparison 3).`,
    `- The refresh of next-cacheback lands through QStash and the refresh route, so it takes the source's time plus one delivery.`,
  ].join("\n");
  return { title: "2. Stale read latency while the source is slow", body };
}
