/**
 * Throughput against a baseline, measured in many short rounds. In each round every subject runs beside
 * its baseline, first one call at a time, then with many in flight: its calls of the round are cut into
 * slices, run alternately with slices of the baseline's (A B B A A B ...), and the round's ratio is the
 * subject's throughput over its slices ÷ the baseline's over theirs. The median and the range of those
 * ratios over rounds are reported.
 *
 * Order and timing matter on a busy machine of two cores shared with the servers: throughput moves by
 * tens of percent from one moment to the next (which process the scheduler puts where), and a batch pays
 * for what the batch before it left behind (garbage to collect, caches another process evicted). Slices
 * alternated a few milliseconds apart meet the same moments of the machine, and the pattern lets neither
 * side always go first; the baseline leads in even rounds, the subject in odd ones, and the pairs run in
 * an order that rotates and is reversed every other round, so that no subject always follows the same one.
 *
 * What is timed is the subject's `op` alone: the caller passes the library's own call with nothing around
 * it. The harness's part (a clock read before and after each call, one array store) is paid by every
 * subject alike, and the server counters are read between slices, never during one. Round trips are
 * counted where they arrive: at the REST server for @upstash/redis, with MONITOR at redis-server for ioredis.
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
  /**
   * How many slices a subject's calls of a round are cut into, run alternately with its baseline's
   * (ABBAAB...), so that both meet the same moments of the machine. @default 10
   */
  slices?: number;
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
  /** Throughput ÷ the baseline's, run alternately with it: the median and the range over rounds. */
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

type Mode = "sequential" | "concurrent";

/** Runs every subject `sizes.rounds` times in each mode (after `warmup` untimed calls each); figures by id. */
export async function runRounds(ctx: BenchContext, subjects: readonly RoundSubject[], sizes: RoundSizes, warmup = 300): Promise<Map<string, RoundFigures>> {
  for (const s of subjects) for (let i = 0; i < warmup; i++) await s.op();

  const byId = new Map(subjects.map((s) => [s.id, s]));
  const samples = new Map<string, Record<Mode, Sample[]>>(subjects.map((s) => [s.id, { sequential: [], concurrent: [] }]));
  const ratios = new Map<string, Record<Mode, number[]>>(subjects.map((s) => [s.id, { sequential: [], concurrent: [] }]));
  const measure = async (s: RoundSubject, mode: Mode, total: number): Promise<Sample> => {
    await ctx.servers.resetStats();
    const before = await ctx.servers.stats();
    const batch = await runBatch(s.op, total, mode === "sequential" ? 1 : sizes.inFlight);
    const after = await ctx.servers.stats();
    const cpu = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
    const sample = { batch, requests: after.stats.requests / total, commands: after.stats.commands / total, serverCpuUs: cpu / total };
    samples.get(s.id)![mode].push(sample);
    return sample;
  };
  const calls = (mode: Mode) => (mode === "sequential" ? sizes.sequential : sizes.concurrent);
  const slices = Math.max(1, sizes.slices ?? 10);
  // A subject and its baseline run in alternating slices (B A, A B, B A...), starting with the baseline in
  // even rounds: both meet the same moments of the machine, and neither always goes first.
  const pair = async (s: RoundSubject, base: RoundSubject, mode: Mode, round: number): Promise<number> => {
    // A slice with calls in flight keeps at least 8 calls per one in flight (a small run is cut into fewer slices).
    const count = mode === "sequential" ? Math.min(slices, calls(mode)) : Math.max(1, Math.min(slices, Math.floor(calls(mode) / (8 * sizes.inFlight))));
    const sliceCalls = Math.max(1, Math.round(calls(mode) / count));
    const own = { calls: 0, ms: 0 };
    const theirs = { calls: 0, ms: 0 };
    for (let i = 0; i < count; i++) {
      const baseFirst = (round + i) % 2 === 0;
      for (const who of baseFirst ? [base, s] : [s, base]) {
        const { batch } = await measure(who, mode, sliceCalls);
        const into = who === s ? own : theirs;
        into.calls += batch.latencies.length;
        into.ms += batch.wallMs;
      }
    }
    return own.calls / own.ms / (theirs.calls / theirs.ms);
  };
  // Each subject runs paired with its baseline; a baseline no other subject is compared with runs alone.
  const units = subjects.filter((s) => s.baseline !== s.id || !subjects.some((x) => x.baseline === s.id && x.id !== s.id));
  for (let round = 0; round < sizes.rounds; round++) {
    // The pairs' order rotates, and is reversed every other round, so that no pair always follows the same one.
    const rotated = units.map((_, i) => units[(i + round) % units.length]!);
    const order = round % 2 === 0 ? rotated : rotated.reverse();
    for (const mode of ["sequential", "concurrent"] as const) {
      for (const s of order) {
        if (s.baseline === s.id) {
          await measure(s, mode, calls(mode));
          ratios.get(s.id)![mode].push(1);
          continue;
        }
        ratios.get(s.id)![mode].push(await pair(s, byId.get(s.baseline)!, mode, round));
        ratios.get(s.baseline)![mode].push(1);
      }
    }
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

  const spread = (s: RoundSubject, mode: Mode): Spread => {
    const xs = ratios.get(s.id)![mode];
    return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
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
