/**
 * Page views at a steady rate, for what a page costs in Redis commands and QStash messages: one process
 * serves a page that reads `entries` entries, `rate` times a second for `durationS`. The entries are fresh
 * for `lifetimeS`. They are seeded as the page's first render writes them: together, so they go stale
 * together, half a lifetime into the run, and are refreshed together (and stay aligned). A run of one
 * lifetime thus sees each go stale once: the steady mix of fresh and stale reads of that lifetime and
 * rate. One variant (`next-cacheback-staggered`) seeds them so that entry i goes stale (i + 0.5) / entries
 * of a lifetime into the run instead: entries shared with other pages, or of different lifetimes, whose
 * refreshes never coincide. Redis commands are counted at the REST server (the refresh route's
 * included) or, for bentocache, by MONITOR on its connection; QStash messages at the dev QStash server;
 * refreshes by the calls the source received.
 */
import { makeContender, type Library } from "./contenders.js";
import type { BenchContext } from "./context.js";
import { sleep, until } from "./measure.js";
import { clientAddress } from "./redis-monitor.js";

/** The page and its traffic. */
export interface Workload {
  entries: number;
  /** Page views per second. */
  rate: number;
  durationS: number;
  lifetimeS: number;
  /** How long the source takes per call, ms. */
  sourceDelayMs: number;
}

/** A cache set up one way: next-cacheback's variants, and the peers. */
export const VARIANTS = ["next-cacheback", "next-cacheback-batch0", "next-cacheback-memory", "next-cacheback-staggered", "cachified", "bentocache", "unkey"] as const;
export type Variant = (typeof VARIANTS)[number];

/** What one run of page views cost. */
export interface PageViewRun {
  variant: Variant;
  pageViews: number;
  reads: number;
  /** Redis commands, all of them (reads, locks, refreshes, writes). */
  commands: number;
  /** HTTP requests to the REST server (Upstash transport only). */
  requests?: number;
  /** QStash messages published. */
  messages: number;
  /** Calls the source received (each a refresh, or a miss fetched). */
  sourceCalls: number;
  /** Reads that threw. */
  errors: number;
  /** next-cacheback: its events by type (`hit-memory`, `stale-memory`: served from this process's copy). */
  events?: Record<string, number>;
  /** How far behind schedule the last page view started, ms (the run kept its rate when small). */
  lateMs: number;
  wallS: number;
}

const libraryOf = (v: Variant): Library => (v.startsWith("next-cacheback") ? "next-cacheback" : (v as Library));

/** Runs the workload against one variant. */
export async function runPageViews(ctx: BenchContext, variant: Variant, w: Workload): Promise<PageViewRun> {
  const library = libraryOf(variant);
  const cacheback = variant === "next-cacheback-batch0" ? { batchWindow: 0 } : variant === "next-cacheback-memory" ? { memory: { lifetime: 1 } } : undefined;
  const config = ctx.config(library, { freshMs: w.lifetimeS * 1000, staleMs: 86_400_000 }, { tally: true, ...(cacheback ? { cacheback } : {}) });
  const contender = makeContender(library, config);
  const keys = Array.from({ length: w.entries }, (_, i) => `pv-${variant}-${ctx.runPrefix.slice(-6)}-${i}`);
  const lifetimeMs = w.lifetimeS * 1000;
  const freshFor = (i: number) => (variant === "next-cacheback-staggered" ? ((i + 0.5) / w.entries) * lifetimeMs : lifetimeMs / 2);
  await Promise.all(keys.map((key, i) => contender.seedFreshFor(key, { key, from: "seed" }, freshFor(i))));
  for (const key of keys) await ctx.stored(contender.rawKey(key));

  const savedDelay = ctx.source.delayMs;
  ctx.source.delayMs = w.sourceDelayMs;
  const counter = library === "bentocache" ? await ctx.monitor.commandsFrom(await clientAddress(contender.connection!)) : undefined;
  await ctx.servers.resetStats();
  const started = performance.now();
  const total = Math.round(w.rate * w.durationS);
  const pages: Promise<void>[] = [];
  let errors = 0;
  let lateMs = 0;
  try {
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / w.rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      lateMs = Math.max(0, performance.now() - due);
      pages.push(
        Promise.all(
          keys.map((key) =>
            contender.read(key).catch(() => {
              errors++;
            }),
          ),
        ).then(() => undefined),
      );
    }
    await Promise.all(pages);
    const wallS = (performance.now() - started) / 1000;
    // Let what the page views started finish: publishes, deliveries, refreshes and their writes.
    await until("the source to be idle", () => ctx.source.inFlight() === 0, 30_000);
    await ctx.servers.idle();
    await until("the source to be idle", () => ctx.source.inFlight() === 0, 30_000);
    await sleep(300);
    const { stats } = await ctx.servers.stats();
    if (counter) ctx.monitor.drop(counter);
    return {
      variant,
      pageViews: total,
      reads: total * w.entries,
      commands: counter ? counter.count : stats.commands,
      ...(counter ? {} : { requests: stats.requests }),
      messages: (await ctx.servers.messages(`pv-${variant}-${ctx.runPrefix.slice(-6)}-`)).total,
      sourceCalls: keys.reduce((n, key) => n + ctx.source.counts(key).started, 0),
      errors,
      ...(contender.tally ? { events: contender.tally() } : {}),
      lateMs,
      wallS,
    };
  } finally {
    ctx.source.delayMs = savedDelay;
    await contender.close();
  }
}

/** Runs `variants` in turn, reusing the runs in `done` (same workload) instead of running them again. */
export async function runVariants(
  ctx: BenchContext,
  variants: readonly Variant[],
  w: Workload,
  done: readonly PageViewRun[],
  log: (line: string) => void,
): Promise<PageViewRun[]> {
  const runs: PageViewRun[] = [];
  for (const variant of variants) {
    const reused = done.find((r) => r.variant === variant);
    const run = reused ?? (await runPageViews(ctx, variant, w));
    if (!reused) log(`  ${variant}: ${run.commands} Redis commands, ${run.messages} messages, ${run.sourceCalls} source calls for ${run.pageViews} page views`);
    runs.push(run);
  }
  return runs;
}
