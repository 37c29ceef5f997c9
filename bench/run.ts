/**
 * `npm run bench`: every comparison of next-cacheback against its peers and the physical limit, in one
 * run on the same local servers, written to bench/RESULTS.md, bench/results.json and bench/chart.svg.
 *
 *   npm run bench                       everything, full size (writes bench/RESULTS.md and the chart)
 *   npx tsx bench/run.ts hit stampede   only those comparisons (writes to bench/.tmp/)
 *   BENCH_QUICK=1 npx tsx bench/run.ts  everything at small sizes (writes to bench/.tmp/)
 *   npx tsx bench/run.ts --render FILE  RESULTS.md and the chart again from a results.json (to bench/.tmp/)
 *
 * Comparisons: bytes, hit, stale, miss, stampede, freeze, e2e, tags, handler, regenerate, batch, memory, bill, telemetry.
 */
import "./lib/ensure-dist.js";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { runBatching } from "./comparisons/batch.js";
import { runBill } from "./comparisons/bill.js";
import { runBytes } from "./comparisons/bytes.js";
import { runEndToEnd } from "./comparisons/e2e.js";
import { runHandlerGet } from "./comparisons/handler.js";
import { FULL_SIZES as HIT_FULL_SIZES, runHitCost } from "./comparisons/hit.js";
import { runRegenerate } from "./comparisons/regenerate.js";
import { runFreeze, runStampede } from "./comparisons/instances.js";
import { runMemoryTier } from "./comparisons/memory.js";
import { runMissStampede } from "./comparisons/miss.js";
import { runStaleReads } from "./comparisons/stale.js";
import { runTags } from "./comparisons/tags.js";
import { runTelemetry } from "./comparisons/telemetry.js";
import { startBenchContext } from "./lib/context.js";
import { describeMachine } from "./lib/machine.js";
import { writeOutputs } from "./lib/output.js";
import type { Results } from "./lib/render.js";

const ALL = ["bytes", "hit", "stale", "miss", "stampede", "freeze", "e2e", "tags", "handler", "regenerate", "batch", "memory", "bill", "telemetry"] as const;
type Comparison = (typeof ALL)[number];

if (process.argv[2] === "--render") {
  const results = JSON.parse(readFileSync(process.argv[3] ?? "bench/results.json", "utf8")) as Results;
  console.log(`Wrote ${await writeOutputs(results, new URL("./.tmp/", import.meta.url))}`);
  process.exit(0);
}

const quick = process.env.BENCH_QUICK === "1";
const asked = process.argv.slice(2);
for (const a of asked) {
  if (!(ALL as readonly string[]).includes(a)) {
    console.error(`Unknown comparison "${a}". Choose from: ${ALL.join(", ")} (or none for all).`);
    process.exit(2);
  }
}
const selected = new Set<Comparison>(asked.length > 0 ? (asked as Comparison[]) : ALL);
const complete = !quick && selected.size === ALL.length;
const outDir = new URL(complete ? "./" : "./.tmp/", import.meta.url);

const SOURCE_DELAY_MS = 2000;
const SIZES = quick
  ? {
      hit: { sequential: 50, concurrent: 200, inFlight: 64, rounds: 4 },
      stale: { concurrency: [8], windowMs: 800 },
      miss: 100,
      stampede: { ks: [1, 2], readers: 50 },
      freeze: { k: 2, readers: 50 },
      e2e: { connections: 8, duration: 3, sourceDelayMs: SOURCE_DELAY_MS },
      tags: { hit: { sequential: 50, concurrent: 200, inFlight: 64, rounds: 4 }, populations: [100, 2_000], tagCounts: [1, 10, 100], repeats: 5 },
      handler: { sequential: 50, concurrent: 200, inFlight: 64, rounds: 4 },
      regenerate: { processes: 4, readers: 10, windows: 1 },
      batch: { entries: 50 },
      pageViews: { entries: 10, rate: 100, durationS: 10, lifetimeS: 10, sourceDelayMs: 200 },
      telemetry: { n: 20_000, rounds: 2, inFlight: [1, 64] },
    }
  : {
      hit: HIT_FULL_SIZES,
      stale: { concurrency: [1, 8], windowMs: 1500 },
      miss: 500,
      stampede: { ks: [1, 2, 4, 8], readers: 250 },
      freeze: { k: 8, readers: 250 },
      e2e: { connections: 32, duration: 10, sourceDelayMs: SOURCE_DELAY_MS },
      tags: { hit: { sequential: 300, concurrent: 10_000, inFlight: 64, rounds: 10 }, populations: [100, 10_000], tagCounts: [1, 10, 100], repeats: 30 },
      handler: { sequential: 300, concurrent: 10_000, inFlight: 64, rounds: 10 },
      regenerate: { processes: 4, readers: 20, windows: 3 },
      batch: { entries: 50 },
      pageViews: { entries: 10, rate: 100, durationS: 60, lifetimeS: 60, sourceDelayMs: 200 },
      telemetry: { n: 300_000, rounds: 7, inFlight: [1, 64] },
    };
/** The traffic the bill's monthly figures are for, page views per second. */
const BILL_TRAFFIC = 100;

const log = (line: string) => console.log(line);
const started = Date.now();
const ctx = await startBenchContext(SOURCE_DELAY_MS);
const command = complete ? "npm run bench" : `${quick ? "BENCH_QUICK=1 " : ""}npx tsx bench/run.ts ${asked.join(" ")}`.trim();
const results: Results = { machine: await describeMachine(ctx.admin), command, sourceDelayMs: SOURCE_DELAY_MS };
log(`next-cacheback benchmarks: ${[...selected].join(", ")}${quick ? " (quick sizes)" : ""}; load average ${results.machine.loadAtStart.join(" ")}`);
try {
  if (selected.has("bytes")) {
    log("7. bytes");
    results.bytes = await runBytes(ctx);
  }
  if (selected.has("hit")) {
    log("1. hit cost");
    results.hit = await runHitCost(ctx, SIZES.hit);
  }
  if (selected.has("stale")) {
    log("2. stale read latency");
    results.stale = await runStaleReads(ctx, SIZES.stale);
  }
  if (selected.has("miss")) {
    log("5. miss stampede");
    results.miss = await runMissStampede(ctx, SIZES.miss);
  }
  if (selected.has("stampede")) {
    log("3. stampede across instances");
    results.stampede = await runStampede(ctx, SIZES.stampede.ks, SIZES.stampede.readers, log);
  }
  if (selected.has("freeze")) {
    log("4. refresh survives a freeze");
    results.freeze = await runFreeze(ctx, SIZES.freeze.k, SIZES.freeze.readers, log);
  }
  if (selected.has("e2e")) {
    log("6. end to end");
    results.e2e = await runEndToEnd(ctx, SIZES.e2e, log);
  }
  if (selected.has("tags")) {
    log("8. tags");
    results.tags = await runTags(ctx, SIZES.tags, log);
  }
  if (selected.has("handler")) {
    log("9. cache handler get");
    results.handler = await runHandlerGet(ctx, SIZES.handler);
  }
  if (selected.has("regenerate")) {
    log("10. regenerations across processes");
    results.regenerate = await runRegenerate(ctx, SIZES.regenerate, log);
  }
  if (selected.has("batch")) {
    log("11. one message for many refreshes");
    results.batch = await runBatching(ctx, SIZES.batch);
  }
  if (selected.has("memory")) {
    log("12. the memory tier");
    results.memory = await runMemoryTier(ctx, SIZES.pageViews, log);
  }
  if (selected.has("bill")) {
    log("13. the bill");
    results.bill = await runBill(ctx, SIZES.pageViews, BILL_TRAFFIC, results.memory?.runs ?? [], log);
  }
  if (selected.has("telemetry")) {
    log("14. what OpenTelemetry costs a hit");
    results.telemetry = await runTelemetry(SIZES.telemetry, log);
  }
} finally {
  await ctx.close();
}
results.durationSeconds = Math.round((Date.now() - started) / 1000);
results.loadAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);

const written = await writeOutputs(results, outDir);
log(`Wrote ${written} in ${results.durationSeconds} s.`);
process.exit(0);
