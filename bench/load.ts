/**
 * The load run of docs/reliability.md: the example app under `next start` on the Upstash-compatible dev
 * servers, autocannon with 50 connections for 65 s over a mix of fresh, stale and missing keys, while its
 * own redis-server is killed and restarted once and QStash is unreachable for 10 s. Writes the figures to
 * docs/reliability.md.
 *
 *   npx tsx bench/load.ts            (LOAD_DURATION_S, LOAD_CONNECTIONS and LOAD_OUT override the defaults)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Redis } from "@upstash/redis";
import autocannon from "autocannon";
import { Cacheback } from "../src/cacheback.js";
import { startQStashServer, startRedisRestServer } from "../packages/dev/src/index.js";
import type { RefreshMessage } from "../src/message.js";
import { buildExample, startExample } from "../test/e2e/example-app.js";
import { statusOf, textOf } from "../test/e2e/page.js";
import { ROOT } from "../test/helpers/built-package.js";
import { startFaultProxy } from "../test/helpers/fault-proxy.js";
import { seededRandom } from "../test/helpers/prng.js";
import { startRedisProcess } from "../test/helpers/redis-process.js";
import { eventually } from "../test/helpers/wait.js";
import { renderReport, type LoadRun } from "./load/report.js";
import { emptyPhase, percentile, type PhaseStats } from "./load/stats.js";

const DURATION_S = Number(process.env.LOAD_DURATION_S ?? 65);
const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 50);
const OUT = process.env.LOAD_OUT ?? join(ROOT, "docs", "reliability.md");
const LIFETIME_S = 5;
const SOURCE_DELAY_MS = 200;
const SEED = 20_240_601;
const WARMUP_S = 5;
const HOT = Array.from({ length: 20 }, (_, i) => `HOT${i + 1}`);
const WARM = Array.from({ length: 200 }, (_, i) => `WARM${i + 1}`);
/** Share of requests per kind (the rest are page loads of hot keys). */
const MIX = { hot: 0.55, warm: 0.3, missing: 0.05 };

// The timeline, in seconds from the start of the load (scaled when LOAD_DURATION_S is not 65).
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
const phaseAt = (s: number): PhaseStats => phases.find((p) => s < p.toS) ?? (phases.at(-1) as PhaseStats);

type Kind = "hot" | "warm" | "missing" | "page";
interface Context {
  kind?: Kind;
  symbol?: string;
  last?: { cacheStatus: string; wrong: boolean };
}

const log = (line: string) => console.log(`[load] ${line}`);

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  log(`load average before: ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`);
  const buildMs = buildExample();
  log(buildMs > 0 ? `built the example in ${(buildMs / 1000).toFixed(1)} s` : "example build is current");

  const dataDir = mkdtempSync(join(os.tmpdir(), "cacheback-load-"));
  const redisProc = await startRedisProcess({ persistDir: dataDir });
  const rest = await startRedisRestServer({ port: 0, redisUrl: redisProc.url });
  const qstash = await startQStashServer({ port: 0 }); // QStash's own retry schedule: 12 s, 2.5 min...
  const qstashProxy = await startFaultProxy(qstash.port);
  const prefix = `load:${crypto.randomUUID().slice(0, 8)}:`;
  const app = await startExample((port) => ({
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
    // Warm the server up (JIT, first renders) with the same mix; not measured.
    await autocannon({ url: app.origin, connections: CONNECTIONS, duration: WARMUP_S, requests: [{ method: "GET", path: `/api/quotes/${HOT[0]}` }, { method: "GET", path: `/quotes/${HOT[1]}` }] });
    log(`seeded ${seedKeys.length} keys, warmed up for ${WARMUP_S} s; running ${CONNECTIONS} connections for ${DURATION_S} s`);

    const random = seededRandom(SEED);
    let nextMissing = 0;
    const staleEpisodes = new Set<string>();
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
      setTimeout(() => {
        void qstashProxy.stop().then(() => faults.push(`${elapsed().toFixed(1)} s: QStash port closed`));
      }, QSTASH_STOP_S * 1000),
      setTimeout(() => {
        void qstashProxy.start().then(() => faults.push(`${elapsed().toFixed(1)} s: QStash port open again`));
      }, QSTASH_START_S * 1000),
    ];

    let finish!: (result: autocannon.Result) => void;
    let fail!: (error: unknown) => void;
    const done = new Promise<autocannon.Result>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    const options: autocannon.Options = {
      url: app.origin,
      connections: CONNECTIONS,
      duration: DURATION_S,
      timeout: 10,
      requests: [
        {
          method: "GET",
          path: "/api/quotes/HOT1",
          setupRequest: (req, context) => {
            const ctx = context as Context;
            const r = random();
            let kind: Kind;
            let symbol: string;
            if (r < MIX.hot) [kind, symbol] = ["hot", HOT[Math.floor(random() * HOT.length)] as string];
            else if (r < MIX.hot + MIX.warm) [kind, symbol] = ["warm", WARM[Math.floor(random() * WARM.length)] as string];
            else if (r < MIX.hot + MIX.warm + MIX.missing) [kind, symbol] = ["missing", `NEW${++nextMissing}`];
            else [kind, symbol] = ["page", HOT[Math.floor(random() * HOT.length)] as string];
            ctx.kind = kind;
            ctx.symbol = symbol;
            ctx.last = undefined;
            return { ...req, path: kind === "page" ? `/quotes/${symbol}` : `/api/quotes/${symbol}` };
          },
          onResponse: (status, body, context) => {
            const ctx = context as Context;
            if (status < 200 || status >= 300) {
              ctx.last = { cacheStatus: "error", wrong: false };
              return;
            }
            let cacheStatus: string;
            let version: number | undefined;
            let wrong: boolean;
            if (ctx.kind === "page") {
              cacheStatus = statusOf(body).status ?? "unknown";
              version = Number(textOf(body, "version")?.match(/version (\d+)/)?.[1]);
              wrong = !body.includes(`<h1>${ctx.symbol}</h1>`);
            } else {
              const json = JSON.parse(body) as { status: string; value: { symbol: string; version: number } };
              cacheStatus = json.status;
              version = json.value.version;
              wrong = json.value.symbol !== ctx.symbol;
            }
            if (cacheStatus === "stale") staleEpisodes.add(`${ctx.symbol}:${version}`);
            ctx.last = { cacheStatus, wrong };
          },
        },
      ],
    };
    const instance = autocannon(options, (error, result) => (error ? fail(error) : finish(result)));
    instance.on("response", (client, statusCode, _bytes, responseTime) => {
      const phase = phaseAt(elapsed());
      phase.responses++;
      if (statusCode < 200 || statusCode >= 300) phase.non2xx++;
      phase.latencies.push(responseTime);
      const last = (client as unknown as { requestIterator?: { context?: Context } }).requestIterator?.context?.last;
      const status = last?.cacheStatus ?? "unknown";
      phase.byCacheStatus[status] = (phase.byCacheStatus[status] ?? 0) + 1;
      (phase.latencyByCacheStatus[status] ??= []).push(responseTime);
      if (last?.wrong) phase.wrongValues++;
    });
    instance.on("reqError", () => {
      phaseAt(elapsed()).errors++;
    });
    const result = await done;
    const loadEnded = Date.now();
    for (const timer of timers) clearTimeout(timer);
    await qstashProxy.start();
    log(`load done: ${result.requests.total} requests, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);

    // Let QStash finish what it accepted (deliveries, and retries of refreshes that met the Redis restart).
    const settled = () => qstash.engine.messages().every((m) => m.state === "DELIVERED" || m.state === "FAILED" || m.state === "CANCELLED");
    const drainStarted = Date.now();
    while (!settled() && Date.now() - drainStarted < 60_000) await new Promise((resolve) => setTimeout(resolve, 250));
    const drainMs = Date.now() - drainStarted;

    const messages = qstash.engine.messages();
    const quoteMessages = messages.filter((m) => (JSON.parse(m.body ?? "{}") as RefreshMessage).job === "quote");
    for (const m of quoteMessages) {
      const s = (m.createdAt - t0) / 1000;
      if (s >= 0 && s <= DURATION_S + 1) phaseAt(s).published++;
    }
    const missingAtEnd: string[] = [];
    const stillStale = new Set<string>();
    for (const symbol of [...HOT, ...WARM]) {
      const entry = await observer.peek<{ version: number }>(["quote", symbol]);
      if (entry.status === "miss") missingAtEnd.push(symbol);
      if (entry.status === "stale") stillStale.add(`${symbol}:${entry.value?.version}`);
    }
    // Stale entries readers were served that are still there, stale, at the end: their refresh is due on their next read.
    const notRefreshed = [...staleEpisodes].filter((e) => stillStale.has(e)).length;
    // Two messages for one key less than a lifetime apart: a second refresh in one window.
    const bySymbol = new Map<string, number[]>();
    for (const m of quoteMessages) {
      const symbol = String((JSON.parse(m.body ?? "{}") as RefreshMessage).args?.[0]);
      (bySymbol.get(symbol) ?? bySymbol.set(symbol, []).get(symbol)!).push(m.createdAt);
    }
    let duplicates = 0;
    for (const times of bySymbol.values()) {
      times.sort((x, y) => x - y);
      for (let i = 1; i < times.length; i++) if ((times[i] as number) - (times[i - 1] as number) < LIFETIME_S * 1000) duplicates++;
    }
    const publishedAfterLoad = quoteMessages.filter((m) => m.createdAt > loadEnded).length;
    const outcomes = countBy(
      quoteMessages.map((m) => {
        try {
          return (JSON.parse(m.responseBody ?? "{}") as { status?: string }).status ?? `answer ${m.responseStatus}`;
        } catch {
          return `answer ${m.responseStatus}`;
        }
      }),
    );

    const run: LoadRun = {
      date: new Date(t0).toISOString(),
      durationS: DURATION_S,
      connections: CONNECTIONS,
      lifetimeS: LIFETIME_S,
      sourceDelayMs: SOURCE_DELAY_MS,
      keys: { hot: HOT.length, warm: WARM.length, missingServed: nextMissing },
      mix: MIX,
      phases,
      alone: { p50: percentile(alone, 50), p99: percentile(alone, 99) },
      warmupS: WARMUP_S,
      totals: { requests: result.requests.total, non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts },
      faults,
      refreshes: {
        expected: staleEpisodes.size,
        notRefreshed,
        outcomes,
        duplicates,
        publishedAfterLoad,
        published: quoteMessages.length,
        delivered: quoteMessages.filter((m) => m.state === "DELIVERED").length,
        failed: quoteMessages.filter((m) => m.state === "FAILED").length,
        pending: quoteMessages.filter((m) => !["DELIVERED", "FAILED", "CANCELLED"].includes(m.state)).length,
        retried: quoteMessages.filter((m) => m.attempts.length > 1).length,
        attemptStatuses: countBy(quoteMessages.flatMap((m) => m.attempts.map((a) => String(a.status ?? a.error ?? "none")))),
        otherJobs: messages.length - quoteMessages.length,
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
    writeFileSync(OUT, renderReport(run));
    log(`wrote ${OUT}`);
    for (const p of phases) {
      log(`${p.name}: ${p.responses} responses, ${p.non2xx} non-2xx, ${p.errors} errors, published ${p.published}, statuses ${JSON.stringify(p.byCacheStatus)}`);
    }
    log(`refreshes: expected ${run.refreshes.expected}, published ${run.refreshes.published}; entries lost across the restart ${lostAcrossRestart}, missing at the end ${missingAtEnd.length}`);
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

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
