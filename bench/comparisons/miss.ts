/**
 * 5. Miss stampede in one process: many concurrent readers of a key that is not cached. The source
 * counts its calls; redis-server counts the writes of the entry.
 */
import { LABELS, LIBRARIES, makeContender, type Library } from "../lib/contenders.js";
import type { BenchContext } from "../lib/context.js";
import { sleep, summarize, until } from "../lib/measure.js";
import { ms, table, type Section } from "../lib/report.js";

/** One library's miss stampede. */
export interface MissRow {
  library: Library;
  readers: number;
  sourceRuns: number;
  writes: number;
  /** Reads that got the fetched value. */
  fetched: number;
  errors: number;
  p50ms: number;
  p99ms: number;
  maxMs: number;
}

const PERIODS = { freshMs: 3_600_000, staleMs: 86_400_000 };

/** Runs comparison 5. */
export async function runMissStampede(ctx: BenchContext, readers: number): Promise<MissRow[]> {
  const rows: MissRow[] = [];
  for (const library of LIBRARIES) {
    const contender = makeContender(library, ctx.config(library, PERIODS));
    const key = `miss-${library}`;
    // Warm the library's connections and code on a cached key of its own first.
    await contender.seedFresh(`${key}-warm`, { warm: true });
    await ctx.stored(contender.rawKey(`${key}-warm`));
    await contender.read(`${key}-warm`);
    const writes = await ctx.monitor.writesTo(contender.rawKey(key));
    const latencies: number[] = [];
    let fetched = 0;
    let errors = 0;
    await Promise.all(
      Array.from({ length: readers }, async () => {
        const t = performance.now();
        try {
          const { value } = await contender.read(key);
          if ((value as { from?: string } | null)?.from === "origin") fetched++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - t);
      }),
    );
    await ctx.stored(contender.rawKey(key));
    await until("the source to be idle", () => ctx.source.inFlight() === 0, 15_000);
    await sleep(200);
    ctx.monitor.drop(writes);
    rows.push({ library, readers, sourceRuns: ctx.source.counts(key).started, writes: writes.count, fetched, errors, ...summarize(latencies) });
    await contender.close();
  }
  return rows;
}

/** RESULTS.md section of comparison 5. */
export function missSection(rows: readonly MissRow[], sourceDelayMs: number): Section {
  const manyWrites = rows.filter((r) => r.writes > r.sourceRuns);
  const body = [
    `${rows[0]?.readers ?? 0} concurrent readers in one process read a key that is not cached; the source takes ${sourceDelayMs} ms. ` +
      `Goal: the source runs once.`,
    "",
    table(
      ["cache", "readers", "source runs", "entry writes (redis-server)", "reads that got the value", "errors", "p50 ms", "p99 ms", "max ms"],
      rows.map((r) => [LABELS[r.library], r.readers, r.sourceRuns, r.writes, r.fetched, r.errors, ms(r.p50ms), ms(r.p99ms), ms(r.maxMs)]),
    ),
    "",
    `- Every cache here collapses concurrent misses of one key in one process into one source call (next-cacheback with a map of ` +
      `in-flight fetches). Across processes a miss is fetched once per process by every cache, next-cacheback included: with ` +
      `\`fetchOnMiss: false\` a miss instead returns \`empty\` at once and is filled by one background refresh.`,
    ...manyWrites.map(
      (r) => `- ${LABELS[r.library]} called the source ${r.sourceRuns} time(s) but wrote the entry ${r.writes} times: every waiting reader writes the value it got.`,
    ),
  ].join("\n");
  return { title: "5. Miss stampede in one process", body };
}
