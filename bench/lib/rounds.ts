/**
 * Throughput against a baseline, measured in many short rounds: in each round every subject takes its
 * turn (in a rotating order), first one call at a time, then with many in flight, so that JIT warm-up and
 * the machine's noise fall on all alike. Each round gives a subject's throughput ÷ its baseline's in that
 * round; the median and the range over rounds are reported. Round trips are counted where they arrive:
 * at the REST server for @upstash/redis, with MONITOR at redis-server for ioredis.
 *
 * What is timed is the subject's `op` alone: the caller passes the library's own call with nothing around
 * it. The harness's part (a clock read before and after each call, one array store) is paid by every
 * subject alike, and the server counters are read between batches, never during one.
 */
import type { BenchContext } from "./context.js";
import { median, pool, runBatch, sleep, type Batch, type LoadResult } from "./measure.js";
import { ms, perSec } from "./report.js";

/** Sizes of a rounds run. */
export interface RoundSizes {
  /** Calls per subject per round, one at a time. */
  sequential: number;
  /** Calls per subject per round with `inFlight` concurrent. */
  concurrent: number;
  inFlight: number;
  rounds: number;
}

/** A median and the range around it. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** One subject: what is called, and what it is compared with. */
export interface RoundSubject {
  id: string;
  /** The call measured (the library's own call, nothing around it). */
  op: () => Promise<unknown>;
  /** The id of the subject this one's throughput is divided by, round by round (its own id for a baseline). */
  baseline: string;
  transport: "upstash" | "ioredis";
  /** For ioredis: the address redis-server sees for the subject's connection (commands are counted by MONITOR). */
  address?: () => Promise<string>;
}

/** What a rounds run found for one subject. */
export interface RoundFigures {
  /** Every round pooled. */
  sequential: LoadResult;
  concurrent: LoadResult;
  /** Throughput ÷ the baseline's in the same round: the median and the range over rounds. */
  ratio: { sequential: Spread; concurrent: Spread };
  /** HTTP requests per call at the REST server (Upstash transport), one at a time and in flight. */
  requestsPerOp?: { sequential: number; concurrent: number };
  /** Redis commands per call (REST server count, or MONITOR for ioredis). */
  commandsPerOp: number;
  /** REST server CPU per call, µs, one at a time (Upstash transport). */
  serverCpuUsPerOp?: number;
  /** Share of wall time the REST server process spent on CPU with calls in flight (1 = a full core). */
  serverBusy?: number;
}

type Sample = { batch: Batch; requests: number; commands: number; serverCpuUs: number };

/** Runs every subject `sizes.rounds` times in each mode (after `warmup` untimed calls each); figures by id. */
export async function runRounds(ctx: BenchContext, subjects: readonly RoundSubject[], sizes: RoundSizes, warmup = 300): Promise<Map<string, RoundFigures>> {
  for (const s of subjects) for (let i = 0; i < warmup; i++) await s.op();

  const samples = new Map<string, { sequential: Sample[]; concurrent: Sample[] }>(subjects.map((s) => [s.id, { sequential: [], concurrent: [] }]));
  const measure = async (s: RoundSubject, total: number, concurrency: number): Promise<Sample> => {
    await ctx.servers.resetStats();
    const before = await ctx.servers.stats();
    const batch = await runBatch(s.op, total, concurrency);
    const after = await ctx.servers.stats();
    const cpu = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
    return { batch, requests: after.stats.requests / total, commands: after.stats.commands / total, serverCpuUs: cpu / total };
  };
  for (let round = 0; round < sizes.rounds; round++) {
    // Rotate the order each round so no subject always runs first or last.
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]!);
    for (const s of order) samples.get(s.id)!.sequential.push(await measure(s, sizes.sequential, 1));
    for (const s of order) samples.get(s.id)!.concurrent.push(await measure(s, sizes.concurrent, sizes.inFlight));
  }

  // Redis commands per call of the ioredis subjects, counted by redis-server (MONITOR) in a pass of its own.
  const monitored = new Map<string, number>();
  for (const s of subjects.filter((x) => x.address)) {
    const counter = await ctx.monitor.commandsFrom(await s.address!());
    const n = 500;
    for (let i = 0; i < n; i++) await s.op();
    await sleep(200);
    ctx.monitor.drop(counter);
    monitored.set(s.id, counter.count / n);
  }

  const spread = (s: RoundSubject, mode: "sequential" | "concurrent"): Spread => {
    const base = samples.get(s.baseline)![mode];
    const ratios = samples.get(s.id)![mode].map((x, i) => x.batch.latencies.length / x.batch.wallMs / (base[i]!.batch.latencies.length / base[i]!.batch.wallMs));
    return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
  };
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const figures = new Map<string, RoundFigures>();
  for (const s of subjects) {
    const seq = samples.get(s.id)!.sequential;
    const con = samples.get(s.id)!.concurrent;
    figures.set(s.id, {
      sequential: pool(seq.map((x) => x.batch)),
      concurrent: pool(con.map((x) => x.batch)),
      ratio: { sequential: spread(s, "sequential"), concurrent: spread(s, "concurrent") },
      ...(s.transport === "upstash"
        ? {
            requestsPerOp: { sequential: mean(seq.map((x) => x.requests)), concurrent: mean(con.map((x) => x.requests)) },
            commandsPerOp: mean(seq.map((x) => x.commands)),
            serverCpuUsPerOp: mean(seq.map((x) => x.serverCpuUs)),
            serverBusy: mean(con.map((x) => (x.serverCpuUs * x.batch.latencies.length) / (x.batch.wallMs * 1000))),
          }
        : { commandsPerOp: monitored.get(s.id) ?? Number.NaN }),
    });
  }
  return figures;
}

/** `0.97× (0.91–1.02)`: a spread of ratios. */
export function spreadText(x: Spread): string {
  return `${x.median.toFixed(2)}× (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
}

/**
 * The cells a rounds table has after its reader's label: throughput and p50/p99 one at a time, the same with
 * many in flight, and the two ratios ("1 (baseline)" for the baseline itself).
 */
export function roundCells(f: Pick<RoundFigures, "sequential" | "concurrent" | "ratio">, baseline: boolean): string[] {
  const { sequential: seq, concurrent: con } = f;
  const ratioText = (x: Spread) => (baseline ? "1 (baseline)" : spreadText(x));
  return [perSec(seq.opsPerSec), ms(seq.p50ms), ms(seq.p99ms), perSec(con.opsPerSec), ms(con.p50ms), ms(con.p99ms), ratioText(f.ratio.sequential), ratioText(f.ratio.concurrent)];
}
