/**
 * The load run of docs/reliability.md: the example app under `next start` on the Upstash-compatible dev
 * servers, autocannon over a mix of fresh, stale and missing keys, while its own redis-server is killed and
 * restarted once and QStash is unreachable for 10 s. Refreshes are counted from the server's own events
 * (`CACHEBACK_DEBUG=1`: those QStash delivered and those run in process while it failed) and from the QStash
 * server's log. Writes the figures to docs/reliability.md.
 *
 *   npx tsx bench/load.ts                                 the full run (65 s, 50 connections) into docs/reliability.md
 *   npx tsx bench/load.ts --duration 20 --connections 20  a shorter run (the timeline scales), into bench/.tmp/reliability.md
 *
 * Flags, or the variables after them: --duration S (LOAD_DURATION_S, 65), --connections N (LOAD_CONNECTIONS, 50),
 * --warmup S (LOAD_WARMUP_S, 5), --out FILE (LOAD_OUT; default docs/reliability.md for the full run, else bench/.tmp/).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { Redis } from "@upstash/redis";
import autocannon from "autocannon";
import { Cacheback } from "../src/cacheback.js";
import { startQStashServer, startRedisRestServer } from "../packages/dev/src/index.js";
import { buildExample } from "../test/e2e/example-app.js";
import { ROOT } from "../test/helpers/built-package.js";
import { startFaultProxy } from "../test/helpers/fault-proxy.js";
import { startRedisProcess } from "../test/helpers/redis-process.js";
import { eventually } from "../test/helpers/wait.js";
import { startLoadExample } from "./load/example.js";
import { analyseRefreshes, messageOutcomes } from "./load/refreshes.js";
import { renderReport, type LoadRun } from "./load/report.js";
import { emptyPhase, percentile, type PhaseStats } from "./load/stats.js";
import { driveTraffic } from "./load/traffic.js";

function setting(flag: string, variable: string): string | undefined {
  const i = process.argv.indexOf(`--${flag}`);
  return i >= 0 ? process.argv[i + 1] : process.env[variable];
}
const DURATION_S = Number(setting("duration", "LOAD_DURATION_S") ?? 65);
const CONNECTIONS = Number(setting("connections", "LOAD_CONNECTIONS") ?? 50);
const WARMUP_S = Number(setting("warmup", "LOAD_WARMUP_S") ?? 5);
const FULL = DURATION_S === 65 && CONNECTIONS === 50;
const OUT = setting("out", "LOAD_OUT") ?? (FULL ? join(ROOT, "docs", "reliability.md") : join(ROOT, "bench", ".tmp", "reliability.md"));
const LIFETIME_S = 5;
const SOURCE_DELAY_MS = 200;
const SEED = 20_240_601;
const HOT = Array.from({ length: 20 }, (_, i) => `HOT${i + 1}`);
const WARM = Array.from({ length: 200 }, (_, i) => `WARM${i + 1}`);
/** Share of requests per kind (the rest are page loads of hot keys). */
const MIX = { hot: 0.55, warm: 0.3, missing: 0.05 };

// The timeline, in seconds from the start of the load (scaled when the run is not 65 s long).
const scale = DURATION_S / 65;
const at = (s: number) => Math.round(s * scale * 10) / 10;
const REDIS_KILL_S = at(15);
const REDIS_START_S = at(17);
const QSTASH_STOP_S = at(35);
const QSTASH_START_S = at(45);
const phases: PhaseStats[] = [
  emptyPhase("steady", "none", 0, at(15)),
  emptyPhase("redis restart", `redis-server killed (SIGKILL) at ${REDIS_KILL_S} s, started again at ${REDIS_START_S} s`, at(15), at(25)),
  emptyPhase("recovery", "none", at(25), at(35)),
  emptyPhase("qstash down", `QStash unreachable from ${QSTASH_STOP_S} s to ${QSTASH_START_S} s (its port closed)`, at(35), at(45)),
  emptyPhase("after", "none", at(45), DURATION_S),
];
const phaseIndexAt = (s: number): number => {
  const i = phases.findIndex((p) => s < p.toS);
  return i === -1 ? phases.length - 1 : i;
};

const log = (line: string) => console.log(`[load] ${line}`);

async function main(): Promise<void> {
  if (![DURATION_S, CONNECTIONS, WARMUP_S].every((x) => Number.isFinite(x) && x > 0)) throw new Error("--duration, --connections and --warmup must be positive numbers");
  const loadBefore = os.loadavg();
  log(`load average before: ${loadBefore.map((l) => l.toFixed(2)).join(" ")}; ${DURATION_S} s, ${CONNECTIONS} connections; writing ${OUT}`);
  const buildMs = buildExample();
  log(buildMs > 0 ? `built the example in ${(buildMs / 1000).toFixed(1)} s` : "example build is current");

  const dataDir = mkdtempSync(join(os.tmpdir(), "cacheback-load-"));
  const redisProc = await startRedisProcess({ persistDir: dataDir });
  const rest = await startRedisRestServer({ port: 0, redisUrl: redisProc.url });
  const qstash = await startQStashServer({ port: 0 }); // QStash's own retry schedule: 12 s, 2.5 min...
  const qstashProxy = await startFaultProxy(qstash.port);
  const prefix = `load:${crypto.randomUUID().slice(0, 8)}:`;
  const app = await startLoadExample((port) => ({
    UPSTASH_REDIS_REST_URL: rest.url,
    UPSTASH_REDIS_REST_TOKEN: rest.token,
    QSTASH_URL: qstashProxy.url,
    QSTASH_TOKEN: qstash.token,
    QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
    CACHEBACK_REFRESH_URL: `http://127.0.0.1:${port}/api/cacheback`,
    CACHEBACK_PREFIX: prefix,
    EXAMPLE_SOURCE_DELAY_MS: String(SOURCE_DELAY_MS),
    EXAMPLE_LIFETIME: String(LIFETIME_S),
  }));
  const redis = new Redis({ url: rest.url, token: rest.token });
  const observer = new Cacheback({ redis, prefix });
  log(`example on ${app.origin}; redis-server ${redisProc.url} (append-only file in ${dataDir}); QStash ${qstash.url} behind ${qstashProxy.url}`);

  try {
    // Seed the hot and warm keys (misses that write back), then wait until every one is stored.
    const seedKeys = [...HOT, ...WARM];
    for (let i = 0; i < seedKeys.length; i += 20) {
      await Promise.all(seedKeys.slice(i, i + 20).map((s) => fetch(`${app.origin}/api/quotes/${s}`).then((r) => r.text())));
    }
    await eventually("the seeded entries", async () => (await redis.keys(`${prefix}entry:quote:*`)).length >= seedKeys.length, 30_000);

    // For scale: one request at a time, fresh hits only.
    const alone: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      await fetch(`${app.origin}/api/quotes/${HOT[i % HOT.length]}`).then((r) => r.text());
      alone.push(performance.now() - started);
    }
    // Warm the server up (JIT, first renders); not measured.
    await autocannon({ url: app.origin, connections: CONNECTIONS, duration: WARMUP_S, requests: [{ method: "GET", path: `/api/quotes/${HOT[0]}` }, { method: "GET", path: `/quotes/${HOT[1]}` }] });
    log(`seeded ${seedKeys.length} keys, warmed up for ${WARMUP_S} s; running ${CONNECTIONS} connections for ${DURATION_S} s`);

    const t0 = Date.now();
    const elapsed = () => (Date.now() - t0) / 1000;
    const faults: string[] = [];
    let lostAcrossRestart = 0;
    let entriesBeforeRestart = 0;
    const timers = [
      setTimeout(() => {
        void (async () => {
          const before = await redis.keys(`${prefix}entry:*`);
          entriesBeforeRestart = before.length;
          await redisProc.stop();
          faults.push(`${elapsed().toFixed(1)} s: redis-server killed with ${before.length} entries stored`);
          await new Promise((resolve) => setTimeout(resolve, (REDIS_START_S - REDIS_KILL_S) * 1000));
          await redisProc.start();
          faults.push(`${elapsed().toFixed(1)} s: redis-server started again`);
          const present = await eventually("Redis through the REST server", async () => (await redis.keys(`${prefix}entry:*`)) as string[], 10_000);
          const kept = new Set(present);
          lostAcrossRestart = before.filter((k) => !kept.has(k)).length;
          faults.push(`${elapsed().toFixed(1)} s: REST server answering again; ${before.length - lostAcrossRestart} of ${before.length} entries still there`);
        })();
      }, REDIS_KILL_S * 1000),
      setTimeout(() => void qstashProxy.stop().then(() => faults.push(`${elapsed().toFixed(1)} s: QStash port closed`)), QSTASH_STOP_S * 1000),
      setTimeout(() => void qstashProxy.start().then(() => faults.push(`${elapsed().toFixed(1)} s: QStash port open again`)), QSTASH_START_S * 1000),
    ];
    const traffic = await driveTraffic(
      { origin: app.origin, connections: CONNECTIONS, durationS: DURATION_S, seed: SEED, hot: HOT, warm: WARM, mix: MIX },
      () => phases[phaseIndexAt(elapsed())]!,
    );
    const { result } = traffic;
    for (const timer of timers) clearTimeout(timer);
    await qstashProxy.start();
    log(`load done: ${result.requests.total} requests, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);

    // Let QStash finish what it accepted (deliveries, and retries of refreshes that met the Redis restart),
    // and the refreshes still running in the server (in process or delivered) land.
    const settled = () => qstash.engine.messages().every((m) => m.state === "DELIVERED" || m.state === "FAILED" || m.state === "CANCELLED");
    const drainStarted = Date.now();
    while (!settled() && Date.now() - drainStarted < 60_000) await new Promise((resolve) => setTimeout(resolve, 250));
    let seen = -1;
    while (seen !== app.events.length) {
      seen = app.events.length;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const drainMs = Date.now() - drainStarted;

    for (const { first, last } of traffic.staleSpans.values()) {
      const phase = phases[phaseIndexAt((first - t0) / 1000)]!;
      phase.longestStaleS = Math.max(phase.longestStaleS, (last - first) / 1000);
    }
    const messages = qstash.engine.messages().filter((m) => m.createdAt >= t0);
    const analysis = analyseRefreshes(
      app.events.filter((e) => e.at >= t0),
      messages,
      "quote",
      phases.length,
      (when) => phaseIndexAt((when - t0) / 1000),
    );
    const missingAtEnd: string[] = [];
    const stillStale = new Set<string>();
    for (const symbol of [...HOT, ...WARM]) {
      const entry = await observer.peek<{ version: number }>(["quote", symbol]);
      if (entry.status === "miss") missingAtEnd.push(symbol);
      if (entry.status === "stale") stillStale.add(`${symbol}:${entry.value?.version}`);
    }

    const run: LoadRun = {
      date: new Date(t0).toISOString(),
      durationS: DURATION_S,
      connections: CONNECTIONS,
      lifetimeS: LIFETIME_S,
      sourceDelayMs: SOURCE_DELAY_MS,
      keys: { hot: HOT.length, warm: WARM.length, missingServed: traffic.missingServed },
      mix: MIX,
      phases,
      alone: { p50: percentile(alone, 50), p99: percentile(alone, 99) },
      warmupS: WARMUP_S,
      totals: { requests: result.requests.total, non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts },
      faults,
      qstashDownS: QSTASH_START_S - QSTASH_STOP_S,
      refreshes: {
        // Stale values readers were served that are still there, stale, at the end: their refresh is due on their next read.
        expected: traffic.staleEpisodes.size,
        notRefreshed: [...traffic.staleEpisodes].filter((e) => stillStale.has(e)).length,
        analysis,
        messages: messageOutcomes(messages, "quote"),
        drainMs,
      },
      entries: { beforeRestart: entriesBeforeRestart, lostAcrossRestart, expectedAtEnd: HOT.length + WARM.length, missingAtEnd },
      commit: commitId(),
      machine: {
        cpu: os.cpus()[0]?.model ?? "unknown",
        cores: os.cpus().length,
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
        os: `${os.type()} ${os.release()}`,
        node: process.version,
        loadBefore,
        loadAfter: os.loadavg(),
      },
    };
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, renderReport(run));
    log(`wrote ${OUT}`);
    phases.forEach((p, i) => {
      const r = analysis.byPhase[i]!;
      log(
        `${p.name}: ${p.responses} responses, ${p.non2xx} non-2xx, ${p.errors} errors, hot keys' oldest stale value ${p.hotStaleAges.reduce((x, y) => Math.max(x, y), 0).toFixed(1)} s old, longest a hot value first stale in the phase stayed stale ${p.longestStaleS.toFixed(1)} s; ` +
          `refreshes ran ${r.ranViaQueue} via QStash + ${r.ranInProcess} in process, ${r.messages} messages; statuses ${JSON.stringify(p.byCacheStatus)}`,
      );
    });
    log(`refreshes: ${traffic.staleEpisodes.size} stale values served, ${analysis.overlapping} refreshes began before the previous one of their entry wrote; entries lost across the restart ${lostAcrossRestart}, missing at the end ${missingAtEnd.length}`);
  } finally {
    await app.close();
    await qstashProxy.close();
    await Promise.all([rest.close(), qstash.close()]);
    await redisProc.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The commit being measured, marked when the working tree differs from it. */
function commitId(): string {
  try {
    const id = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "example-next-app", "bench/load.ts", "bench/load"], { cwd: ROOT, encoding: "utf8" }).trim();
    return dirty ? `${id}+changes` : id;
  } catch {
    return "unknown";
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
