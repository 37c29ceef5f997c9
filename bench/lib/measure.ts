/** Latency and throughput of a load, measured in this process. */
export interface LoadResult {
  ops: number;
  opsPerSec: number;
  p50ms: number;
  p99ms: number;
  maxMs: number;
  /** CPU time this process spent per operation, µs (user + system). */
  cpuUsPerOp: number;
}

/** The `q` quantile (0..1) of `sorted` (ascending), nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

/** p50, p99 and max of a list of latencies (ms). */
export function summarize(latencies: readonly number[]): { p50ms: number; p99ms: number; maxMs: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50ms: quantile(sorted, 0.5), p99ms: quantile(sorted, 0.99), maxMs: sorted.at(-1) ?? Number.NaN };
}

/** One timed batch of operations. */
export interface Batch {
  latencies: number[];
  wallMs: number;
  cpuUs: number;
}

/** Runs `op` `total` times with `concurrency` calls in flight at any moment, timing each. */
export async function runBatch(op: (i: number) => Promise<unknown>, total: number, concurrency: number): Promise<Batch> {
  const latencies = new Array<number>(total);
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t = performance.now();
      await op(i);
      latencies[i] = performance.now() - t;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { latencies, wallMs, cpuUs: used.user + used.system };
}

/** Pools batches: throughput over their summed time, latency quantiles over all their operations. */
export function pool(batches: readonly Batch[]): LoadResult {
  const latencies = batches.flatMap((b) => b.latencies);
  const wall = batches.reduce((n, b) => n + b.wallMs, 0);
  const cpu = batches.reduce((n, b) => n + b.cpuUs, 0);
  return { ops: latencies.length, opsPerSec: (latencies.length / wall) * 1000, ...summarize(latencies), cpuUsPerOp: cpu / latencies.length };
}

/** Runs `op` `total` times with `concurrency` in flight and summarises. */
export async function runLoad(op: (i: number) => Promise<unknown>, total: number, concurrency: number): Promise<LoadResult> {
  return pool([await runBatch(op, total, concurrency)]);
}

/** The middle element of `xs` ordered by `by` (the lower middle for an even count). */
export function medianBy<T>(xs: readonly T[], by: (x: T) => number): T {
  const sorted = [...xs].sort((a, b) => by(a) - by(b));
  return sorted[Math.floor((sorted.length - 1) / 2)] as T;
}

/** The median of numbers. */
export function median(xs: readonly number[]): number {
  return medianBy(xs, (x) => x);
}

/** Resolves once `check` returns true, polling every `everyMs`; rejects after `timeoutMs` with `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Waits `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A number with `digits` decimals, as text. */
export function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "n/a";
}

/** Runs `op` with `concurrency` calls in flight until `durationMs` have passed; every latency, ms. */
export async function runFor(op: () => Promise<unknown>, durationMs: number, concurrency: number): Promise<number[]> {
  const latencies: number[] = [];
  const deadline = performance.now() + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      await op();
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return latencies;
}
