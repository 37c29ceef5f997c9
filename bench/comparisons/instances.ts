/**
 * 3. Stampede across instances and 4. Refresh survives a freeze: K separate processes (bench/instance.ts),
 * each with its own cache instance, read one stale key at the same moment. The source counts the calls it
 * gets; redis-server (MONITOR) counts the writes of the entry.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { InstanceReport, InstanceSetup } from "../instance.js";
import { LABELS, LIBRARIES, makeContender, type Library } from "../lib/contenders.js";
import type { BenchContext } from "../lib/context.js";
import { sleep, until } from "../lib/measure.js";
import { ms, table, type Section } from "../lib/report.js";

const INSTANCE = fileURLToPath(new URL("../instance.ts", import.meta.url));
const PERIODS = { freshMs: 3_600_000, staleMs: 86_400_000 };
const SEED = { key: "seed", from: "seed", gen: 0, body: "y".repeat(400) };

/** What one run of K instances of one library gave. */
export interface InstancesRun {
  library: Library;
  instances: number;
  mode: InstanceSetup["mode"];
  readers: number;
  /** Calls the source received for the key. */
  sourceRuns: number;
  /** Source answers that reached a caller still running. */
  sourceDelivered: number;
  /** Writes of the entry after the seed, counted by redis-server. */
  writes: number;
  /** Refreshes that completed: source answers that reached a caller which then wrote the entry. */
  completed: number;
  /** Whether the entry held a refreshed value at the end. */
  refreshed: boolean;
  /** Reads that were served the stale (seeded) value, and all reads. */
  servedStale: number;
  reads: number;
  errors: number;
  firstError?: string;
  /** The worst p99 and max read latency over the instances, ms. */
  p99ms: number;
  maxMs: number;
  /** The longest an instance stayed up after its reads returned, ms. */
  lingerMs: number;
}

/** A forked instance process and the messages it sends. */
class Instance {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  #waiters: { type: string; resolve: (m: never) => void; reject: (e: Error) => void }[] = [];

  constructor() {
    this.child = fork(INSTANCE, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.on("message", (m: { type: string }) => {
      const i = this.#waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(m as never);
    });
    void this.exited.then(() => {
      for (const w of this.#waiters.splice(0)) w.reject(new Error(`an instance exited while the benchmark waited for "${w.type}"`));
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `message` and resolves with the next message of type `reply`. */
  ask<T>(message: object, reply: string): Promise<T> {
    const answer = new Promise<T>((resolve, reject) => this.#waiters.push({ type: reply, resolve: resolve as (m: never) => void, reject }));
    this.child.send(message);
    return answer;
  }

  kill(): void {
    if (this.alive) this.child.kill("SIGKILL");
  }
}

/** Long-lived instances, reused run after run (each run makes a new cache instance in each). */
export class InstancePool {
  readonly #instances: Instance[] = [];

  /** `k` live instances, forking more when needed. */
  take(k: number): Instance[] {
    for (let i = this.#instances.length - 1; i >= 0; i--) if (!this.#instances[i]!.alive) this.#instances.splice(i, 1);
    while (this.#instances.length < k) this.#instances.push(new Instance());
    return this.#instances.slice(0, k);
  }

  async close(): Promise<void> {
    for (const instance of this.#instances) {
      if (instance.alive) instance.child.send({ type: "exit" });
    }
    await Promise.race([Promise.all(this.#instances.map((i) => i.exited)), sleep(5_000)]);
    for (const instance of this.#instances) instance.kill();
  }
}

/** Runs K instances of `library` against one stale key, in `mode` (`stampede` runs take their instances from `pool`). */
export async function runInstances(
  ctx: BenchContext,
  pool: InstancePool,
  library: Library,
  instances: number,
  mode: InstanceSetup["mode"],
  readers: number,
): Promise<InstancesRun> {
  const config = ctx.config(library, PERIODS);
  const seeder = makeContender(library, config);
  // The source counts per key: every library and run has a key of its own.
  const key = `${library}-${mode}-k${instances}`;
  const warmKey = `${library}-warm`;
  const rawKey = seeder.rawKey(key);
  await seeder.seedFresh(warmKey, SEED);
  await seeder.seedStale(key, SEED);
  await ctx.stored(rawKey);
  await ctx.stored(seeder.rawKey(warmKey));
  await seeder.close();

  const writes = await ctx.monitor.writesTo(rawKey);
  const children = mode === "stampede" ? pool.take(instances) : Array.from({ length: instances }, () => new Instance());
  try {
    const setup: InstanceSetup = { type: "setup", library, config, key, warmKey, readers, mode };
    await Promise.all(children.map((c) => c.ask(setup, "ready")));
    const reports = await Promise.all(children.map((c) => c.ask<InstanceReport>({ type: "go" }, "done")));
    const isRefreshed = async () => ((await ctx.admin.get(rawKey)) ?? "").includes('"from":"origin"');
    if (mode === "stampede") {
      // The window closes once the refreshes have landed and nothing more is running.
      await until(`the refresh of ${rawKey}`, isRefreshed, ctx.source.delayMs + 15_000);
      await until("the source to be idle", () => ctx.source.inFlight() === 0, 15_000);
      await ctx.servers.idle();
      await sleep(200);
      await Promise.all(children.map((c) => c.ask({ type: "end" }, "ended")));
    } else {
      await Promise.all(children.map((c) => c.exited));
      // The instances are gone: what can still land is what QStash holds and what the source is still answering.
      await ctx.servers.idle();
      await until("the source to be idle", () => ctx.source.inFlight() === 0, ctx.source.delayMs + 15_000);
      await ctx.servers.idle();
    }
    await sleep(150); // MONITOR lines arrive just after the commands
    ctx.monitor.drop(writes);
    const counts = ctx.source.counts(key);
    const served = (r: InstanceReport) => r.values.seed ?? 0;
    const firstError = reports.find((r) => r.firstError)?.firstError;
    return {
      library,
      instances,
      mode,
      readers,
      sourceRuns: counts.started,
      sourceDelivered: counts.delivered,
      writes: writes.count,
      completed: writes.count > 0 ? Math.min(counts.delivered, writes.count) : 0,
      refreshed: await isRefreshed(),
      servedStale: reports.reduce((n, r) => n + served(r), 0),
      reads: reports.reduce((n, r) => n + Object.values(r.values).reduce((a, b) => a + b, 0) + r.errors, 0),
      errors: reports.reduce((n, r) => n + r.errors, 0),
      ...(firstError ? { firstError } : {}),
      p99ms: Math.max(...reports.map((r) => r.p99ms)),
      maxMs: Math.max(...reports.map((r) => r.maxMs)),
      lingerMs: Math.max(...reports.map((r) => r.lingerMs)),
    };
  } finally {
    if (mode !== "stampede") for (const c of children) c.kill();
  }
}

/** Comparison 3 over every K and library. */
export async function runStampede(ctx: BenchContext, ks: readonly number[], readers: number, log: (line: string) => void): Promise<InstancesRun[]> {
  const runs: InstancesRun[] = [];
  const pool = new InstancePool();
  try {
    for (const k of ks) {
      for (const library of LIBRARIES) {
        const run = await runInstances(ctx, pool, library, k, "stampede", readers);
        log(`  stampede K=${k} ${library}: source ran ${run.sourceRuns}×, ${run.writes} writes, ${run.errors} errors`);
        runs.push(run);
      }
    }
  } finally {
    await pool.close();
  }
  return runs;
}

/** Comparison 4: K instances that exit right after their reads, then the same with `waitUntil` honoured. */
export async function runFreeze(ctx: BenchContext, k: number, readers: number, log: (line: string) => void): Promise<InstancesRun[]> {
  const runs: InstancesRun[] = [];
  const pool = new InstancePool();
  for (const library of LIBRARIES) {
    const run = await runInstances(ctx, pool, library, k, "freeze", readers);
    log(`  freeze K=${k} ${library}: ${run.writes} refreshes written, source ran ${run.sourceRuns}×`);
    runs.push(run);
  }
  for (const library of ["cachified", "unkey"] as const) {
    const run = await runInstances(ctx, pool, library, k, "freeze-waituntil", readers);
    log(`  freeze+waitUntil K=${k} ${library}: ${run.writes} refreshes written, source ran ${run.sourceRuns}×`);
    runs.push(run);
  }
  return runs;
}

/** RESULTS.md section of comparison 3. */
export function stampedeSection(runs: readonly InstancesRun[], sourceDelayMs: number): Section {
  const ks = [...new Set(runs.map((r) => r.instances))];
  const readers = runs[0]?.readers ?? 0;
  const cell = (library: Library, k: number) => {
    const r = runs.find((x) => x.library === library && x.instances === k)!;
    return `${r.sourceRuns}${r.errors > 0 ? ` (${r.errors} read errors)` : ""}`;
  };
  const detail = runs.map((r) => [
    LABELS[r.library],
    r.instances,
    r.reads,
    r.servedStale,
    r.sourceRuns,
    r.writes,
    ms(r.p99ms),
    ms(r.maxMs),
  ]);
  const ours = runs.filter((r) => r.library === "next-cacheback");
  const maxK = Math.max(...ks);
  const at = (library: Library, k: number) => runs.find((x) => x.library === library && x.instances === k)!;
  const peers = LIBRARIES.filter((l) => l !== "next-cacheback");
  const body = [
    `K processes (separate instances, each with its own cache instance) hold ${readers} readers each; all read one stale key at the ` +
      `same moment (a barrier releases them together). The source takes ${sourceDelayMs} ms. The table counts the calls the source ` +
      `received in that refresh window; the goal is 1 whatever K.`,
    "",
    table(["cache", ...ks.map((k) => `K = ${k}`)], LIBRARIES.map((library) => [LABELS[library], ...ks.map((k) => cell(library, k))])),
    "",
    "<details><summary>Every run</summary>",
    "",
    table(["cache", "K", "reads", "served stale", "source runs", "entry writes (redis-server)", "worst instance p99 ms", "slowest read ms"], detail),
    "",
    "</details>",
    "",
    `- next-cacheback ran the source ${ours.map((r) => r.sourceRuns).join(", ")} time(s) for K = ${ks.join(", ")}: the refresh lock is a ` +
      `Redis key shared by every instance, and the refresh itself runs once, in the refresh route.`,
    `- The peers deduplicate refreshes inside one process only (an in-memory map or lock), so each instance refreshes on its own.`,
    `- Reader latency: at K = ${maxK}, next-cacheback's slowest instance had a p99 of ${ms(at("next-cacheback", maxK).p99ms)} ms against ` +
      `${peers.map((l) => `${ms(at(l, maxK).p99ms)} ms for ${LABELS[l]}`).join(", ")}. Each instance starts cold here, and ` +
      `next-cacheback's first stale read of an entry also starts its background work (one lock attempt per entry per process at most ` +
      `every 250 ms, then the publish by the winner), which competes for the same 2 cores as every instance's readers.`,
    ...peers
      .filter((l) => at(l, maxK).writes > at(l, maxK).sourceRuns)
      .map((l) => `- ${LABELS[l]} wrote the entry ${at(l, maxK).writes} times at K = ${maxK} for ${at(l, maxK).sourceRuns} source runs: every stale reader writes the refreshed value.`),
  ].join("\n");
  return { title: "3. Stampede across instances", body };
}

/** RESULTS.md section of comparison 4. */
export function freezeSection(runs: readonly InstancesRun[], sourceDelayMs: number): Section {
  const k = runs[0]?.instances ?? 0;
  const rows = runs.map((r) => [
    `${LABELS[r.library]}${r.mode === "freeze-waituntil" ? " + waitUntil" : ""}`,
    r.sourceRuns,
    r.sourceDelivered,
    r.writes,
    r.completed,
    r.refreshed ? "yes" : "no",
    ms(r.lingerMs),
  ]);
  const body = [
    `${k} instances each serve ${runs[0]?.readers ?? 0} stale reads and exit right after, as a serverless function frozen after its ` +
      `response. next-cacheback awaits each read's \`background\` first (what \`waitUntil\` guarantees: the lock and the publish); the ` +
      `peers exit as soon as their reads return, their refreshes being in-process. The source takes ${sourceDelayMs} ms. A refresh ` +
      `completes when the source's answer reaches a caller that writes the entry to Redis (writes counted by redis-server).`,
    "",
    table(["cache", "source calls", "source answers received", "entry writes", "refreshes completed", "entry refreshed at the end", "instances stayed up after their reads, ms"], rows),
    "",
    `- The "+ waitUntil" rows give cachified and unkey a \`waitUntil\` that the instance honours before exiting, as Vercel's or ` +
      `Cloudflare's would: their refreshes then complete, but each instance stays up for the whole source call and runs the source ` +
      `itself. bentocache has no \`waitUntil\` hook.`,
    `- next-cacheback's instances stay up only for the lock and the publish; the refresh runs once, in the refresh route, delivered by QStash.`,
  ].join("\n");
  return { title: "4. Refresh survives a freeze", body };
}
