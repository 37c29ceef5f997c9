/**
 * 1. Hit cost: a read of a fresh entry through each cache vs a bare `get` of the same key over the same
 * client library (the physical limit of a hit: one round trip). Many short rounds in which every reader
 * runs in slices alternated with the bare get's, in an order that changes from round to round
 * (bench/lib/rounds.ts); each round gives a ratio, and the median over rounds is reported. A second bare
 * client, timed as a reader, is the run's A/A check: how far its median lies from 1 is the run's noise.
 * Round trips are counted where they arrive: at the REST server for @upstash/redis, with MONITOR at
 * redis-server for ioredis. What is timed is each library's own call (`cb.fetch(key, fn)`,
 * `cachified({...})`, `cache.swr(...)`, `bento.getOrSet({...})`), as the bare get is the client's own.
 */
import { LABELS, LIBRARIES, ioredisClient, makeContender, upstashClient, type Contender, type Library } from "../lib/contenders.js";
import { REDIS_URL, type BenchContext } from "../lib/context.js";
import type { LoadResult } from "../lib/measure.js";
import { clientAddress } from "../lib/redis-monitor.js";
import { roundCells, runRounds, spreadText, type RoundSizes, type RoundSubject, type Spread } from "../lib/rounds.js";
import { ms, ratio, table, type Section } from "../lib/report.js";

/** Sizes of the hit comparison. */
export type HitOptions = RoundSizes;

type Who = Library | "bare-upstash" | "bare-upstash-aa" | "bare-ioredis";

export type { Spread } from "../lib/rounds.js";

/** One row of the results. */
export interface HitRow {
  who: Who;
  label: string;
  transport: "upstash" | "ioredis";
  /** Every round pooled. */
  sequential: LoadResult;
  concurrent: LoadResult;
  /** Throughput ÷ the bare get's, run alternately with it: the median and the range over rounds. */
  ratio: { sequential: Spread; concurrent: Spread };
  /** HTTP requests per hit at the REST server (Upstash transport), sequential and in flight. */
  requestsPerHit?: { sequential: number; concurrent: number };
  /** Redis commands per hit (REST server count, or MONITOR for ioredis). */
  commandsPerHit: number;
  /** REST server CPU per hit, µs, sequential (Upstash transport). */
  serverCpuUsPerHit?: number;
  /** Share of wall time the REST server process spent on CPU with `inFlight` hits in flight (1 = a full core). */
  serverBusy?: number;
}

/** Everything comparison 1 found. */
export interface HitResult {
  rows: HitRow[];
  options: HitOptions;
}

/** The entry's lifetimes and value in comparison 1 (bench/profile/hit-layers.ts reads the same). */
export const PERIODS = { freshMs: 3_600_000, staleMs: 86_400_000 };
export const VALUE = { id: 42, title: "A post title of moderate length", tags: ["a", "b", "c"], body: "x".repeat(400) };

/**
 * Comparison 1's sizes in a full run. One at a time, a hit is an HTTP round trip (about 0.9 ms here)
 * and its ratio moves with the machine: with 300 hits a round, a second bare client (an A/A check) read
 * anywhere from 0.93× to 1.06× of the first, wider than the 0.95× goal leaves. 1,000 hits a round (slices
 * of 100) narrow it, for about 90 s more. With 64 in flight, one round's ratio still moves by ±15% (the
 * A/A row: 0.85× to 1.24× in 20 rounds), and four times as many hits a round barely narrowed it (0.87× to
 * 1.15× against 0.83× to 1.19×, hit-layers.ts): what moves is the machine from one moment to the next,
 * not the count. More rounds help: the median's own error shrinks with the square root of their number,
 * and 40 rounds (some 2 to 4 minutes more than 20) cut it by a factor of 1.4.
 */
export const FULL_SIZES: HitOptions = { sequential: 1_000, concurrent: 10_000, inFlight: 64, rounds: 40 };
const KEY = "hit";

type Subject = RoundSubject & { id: Who };

/** Runs comparison 1. */
export async function runHitCost(ctx: BenchContext, options: HitOptions): Promise<HitResult> {
  const contenders = new Map<Library, Contender>();
  for (const library of LIBRARIES) {
    const c = makeContender(library, ctx.config(library, PERIODS));
    await c.seedFresh(KEY, VALUE);
    await ctx.stored(c.rawKey(KEY));
    contenders.set(library, c);
  }
  const bareUpstash = upstashClient(ctx.servers);
  const bareIoredis = ioredisClient({ ioredisUrl: REDIS_URL }, "bench-bare-ioredis");
  const secondUpstash = upstashClient(ctx.servers);
  const oursKey = contenders.get("next-cacheback")!.rawKey(KEY);
  const bentoKey = contenders.get("bentocache")!.rawKey(KEY);
  const bento = contenders.get("bentocache")!;

  // Each reader's op is the library's own call (contender.hitOp), as the bare get is the client's own.
  const subjects: Subject[] = [
    { id: "bare-upstash", baseline: "bare-upstash", transport: "upstash", op: () => bareUpstash.get(oursKey) },
    { id: "bare-upstash-aa", baseline: "bare-upstash", transport: "upstash", op: () => secondUpstash.get(oursKey) },
    ...(["next-cacheback", "cachified", "unkey"] as const).map((library) => ({
      id: library,
      baseline: "bare-upstash",
      transport: "upstash" as const,
      op: contenders.get(library)!.hitOp(KEY),
    })),
    { id: "bare-ioredis", baseline: "bare-ioredis", transport: "ioredis", op: () => bareIoredis.get(bentoKey), address: () => clientAddress(bareIoredis) },
    { id: "bentocache", baseline: "bare-ioredis", transport: "ioredis", op: bento.hitOp(KEY), address: () => clientAddress(bento.connection!) },
  ];

  // Every cache must really hit the seeded value, and every bare get find the entry, before anything is timed.
  for (const library of LIBRARIES) {
    const { value } = await contenders.get(library)!.read(KEY);
    if (JSON.stringify(value) !== JSON.stringify(VALUE)) throw new Error(`${library} did not hit the seeded value: ${JSON.stringify(value).slice(0, 200)}`);
  }
  if ((await bareUpstash.get(oursKey)) === null || (await secondUpstash.get(oursKey)) === null || (await bareIoredis.get(bentoKey)) === null) {
    throw new Error("a bare get found no entry");
  }

  const figures = await runRounds(ctx, subjects, options);
  const rows: HitRow[] = subjects.map((s) => {
    const f = figures.get(s.id)!;
    const who = s.id as Who;
    const label = BARE_LABELS[who as keyof typeof BARE_LABELS] ?? LABELS[who as Library];
    return {
      who,
      label,
      transport: s.transport,
      sequential: f.sequential,
      concurrent: f.concurrent,
      ratio: f.ratio,
      ...(f.requestsPerOp ? { requestsPerHit: f.requestsPerOp } : {}),
      commandsPerHit: f.commandsPerOp,
      ...(f.serverCpuUsPerOp !== undefined ? { serverCpuUsPerHit: f.serverCpuUsPerOp } : {}),
      ...(f.serverBusy !== undefined ? { serverBusy: f.serverBusy } : {}),
    };
  });
  for (const c of contenders.values()) await c.close();
  bareIoredis.disconnect();
  return { rows, options };
}

const BARE_LABELS = {
  "bare-upstash": "bare @upstash/redis get",
  "bare-upstash-aa": "bare @upstash/redis get, a second client (A/A check)",
  "bare-ioredis": "bare ioredis get",
} as const;

/** Whether `who` is a baseline (a reader's ratios divide by its throughput). */
const isBaseline = (who: Who) => who === "bare-upstash" || who === "bare-ioredis";

/** The row of the bare `get` that `row` is measured against. */
export function baselineOf(result: HitResult, row: HitRow): HitRow {
  return result.rows.find((r) => r.who === (row.transport === "upstash" ? "bare-upstash" : "bare-ioredis"))!;
}

/** RESULTS.md section of comparison 1. */
export function hitSection(result: HitResult): Section {
  const o = result.options;
  const goal = (x: number) => (x >= 0.95 ? "met" : "**below the goal**");
  const rows = result.rows.map((r) => {
    return [
      r.label,
      r.transport === "upstash" ? "REST (@upstash/redis)" : "TCP (ioredis)",
      ...roundCells(r, isBaseline(r.who)),
      r.requestsPerHit ? `${r.requestsPerHit.sequential.toFixed(2)} / ${r.requestsPerHit.concurrent.toFixed(3)}` : "n/a (TCP)",
      r.commandsPerHit.toFixed(2),
      `${r.sequential.cpuUsPerOp.toFixed(0)} / ${r.concurrent.cpuUsPerOp.toFixed(0)}`,
    ];
  });
  const ours = result.rows.find((r) => r.who === "next-cacheback")!;
  const bare = result.rows.find((r) => r.who === "bare-upstash")!;
  const aa = result.rows.find((r) => r.who === "bare-upstash-aa");
  const peers = result.rows.filter((r) => r.transport === "upstash" && !r.who.startsWith("bare") && r.who !== "next-cacheback");
  const oursVsPeers = peers.map((p) => [
    LABELS[p.who as Library],
    ratio(ours.sequential.opsPerSec / p.sequential.opsPerSec),
    ratio(ours.concurrent.opsPerSec / p.concurrent.opsPerSec),
  ]);
  const clientOverhead = ours.concurrent.cpuUsPerOp - bare.concurrent.cpuUsPerOp;
  const body = [
    `A fresh entry (a ${JSON.stringify(VALUE).length}-byte JSON value) is read in ${o.rounds} rounds: ${o.sequential} hits one at a ` +
      `time, then ${o.concurrent} hits with ${o.inFlight} in flight. In each round every reader runs beside the bare \`get\` of the same ` +
      `entry on the same client library, their calls cut into ${o.slices ?? 10} slices run alternately (the bare \`get\` leads in even ` +
      `rounds); the pairs' order rotates and is reversed every other round, so that no reader always follows the same one. A round's ` +
      `ratio divides the reader's throughput over its slices by the bare \`get\`'s over theirs; the median over rounds is shown with ` +
      `its range. Throughput and latency pool every round.`,
    "",
    table(
      [
        "reader",
        "transport",
        "seq. hits/s",
        "seq. p50 ms",
        "seq. p99 ms",
        `${o.inFlight} in flight hits/s`,
        "p50 ms",
        "p99 ms",
        "seq. ratio vs bare get (range)",
        `${o.inFlight}-in-flight ratio (range)`,
        "HTTP requests per hit (seq. / in flight)",
        "Redis commands per hit",
        "client CPU µs per hit (seq. / in flight)",
      ],
      rows,
    ),
    "",
    `**Goal: ≥ 0.95× a bare \`get\`, one at a time and with ${o.inFlight} in flight.** next-cacheback (\`cb.fetch(key, fn)\` on a fresh entry): ` +
      `one at a time ${spreadText(ours.ratio.sequential)}, ${goal(ours.ratio.sequential.median)}; with ${o.inFlight} in flight ` +
      `${spreadText(ours.ratio.concurrent)}, ${goal(ours.ratio.concurrent.median)}. Each reader's timed call is the library's own ` +
      `call, as the bare \`get\` is the client's own; the harness's clock reads around each call are paid by every reader alike.` +
      (aa
        ? ` The A/A check, a second bare client timed as a reader, read ${spreadText(aa.ratio.sequential)} one at a time and ` +
          `${spreadText(aa.ratio.concurrent)} with ${o.inFlight} in flight: the same call against itself, so its distance from 1.00× ` +
          `is this run's noise in every median above.`
        : ""),
    "",
    `next-cacheback against the peers on the same transport (throughput, ours ÷ theirs):`,
    "",
    table(["peer", "sequential", `${o.inFlight} in flight`], oursVsPeers),
    "",
    `- **Round trips**: next-cacheback's hit is ${ours.requestsPerHit!.sequential.toFixed(2)} HTTP request and ${ours.commandsPerHit.toFixed(2)} Redis command per hit ` +
      `(counted by the REST server), the same as the bare \`get\`. With ${o.inFlight} in flight, @upstash/redis's auto-pipelining batches ` +
      `concurrent reads into one \`/pipeline\` request, for the bare \`get\` and every cache alike.`,
    `- **Client CPU**: ${
      clientOverhead >= 0
        ? `with ${o.inFlight} in flight, where the client process's CPU sets the pace, a next-cacheback hit costs about ` +
          `${clientOverhead.toFixed(0)} µs more client CPU than the bare \`get\` (${ours.concurrent.cpuUsPerOp.toFixed(0)} against ` +
          `${bare.concurrent.cpuUsPerOp.toFixed(0)} µs): the read's own promise and its place in the read timeout's queue, the envelope check, and the key's lookup (a key read before is not checked or encoded again). ` +
          `That is what the in-flight ratio shows; against Upstash itself, a millisecond or more away, it is well under 1% of a hit`
        : `a next-cacheback hit cost no more client CPU than the bare \`get\` in this run`
    }. The REST server spent about ${(bare.serverCpuUsPerHit ?? 0).toFixed(0)} µs of CPU per request. The REST server, like Upstash, ` +
      `is a separate process: its time is in the latency of every reader alike.`,
    `- **Is the REST server the bottleneck?** With ${o.inFlight} in flight its process was busy ${((bare.serverBusy ?? 0) * 100).toFixed(0)}% of ` +
      `the time during the bare \`get\` rounds (${((ours.serverBusy ?? 0) * 100).toFixed(0)}% during next-cacheback's), where 100% is one full core: ` +
      `${(bare.serverBusy ?? 0) > 0.85 ? "it is close to saturated, so the in-flight ratios understate every client's own overhead alike" : "it is not saturated; the client process (one core for the readers, the client library and JSON) sets the pace"}. ` +
      `Sequential hits are bound by the HTTP round trip (about ${ms(bare.sequential.p50ms)} ms at p50 here against ${ms(result.rows.find((r) => r.who === "bare-ioredis")!.sequential.p50ms)} ms ` +
      `for a raw TCP \`GET\`), which is why a REST client's sequential throughput is far below ioredis's on the same redis-server.`,
  ].join("\n");
  return { title: "1. Hit cost", body };
}
