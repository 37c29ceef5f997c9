/**
 * 10. Regenerations of one stale `'use cache: remote'` entry read by K `next start` processes at once:
 * the benchmark's own app (bench/fixtures/remote-app) with next-cacheback's cache handler, then with
 * Next.js's default handler. The cached component counts each time it runs in Redis (INCR), a counter every
 * process shares. Each window: wait until the entry is past its `revalidate` (2 s), send R requests to every
 * process at the same moment, wait for the regenerations to land, and count.
 */
import type { BenchContext } from "../lib/context.js";
import { sleep, summarize, until } from "../lib/measure.js";
import { buildFixture, startFixture, type FixtureServer, type RemoteHandler } from "../lib/next-fixture.js";
import { ms, table, type Section } from "../lib/report.js";

/** Sizes of comparison 10. */
export interface RegenerateOptions {
  /** `next start` processes. */
  processes: number;
  /** Concurrent requests per process in each window. */
  readers: number;
  windows: number;
}

/** One stale window. */
export interface RegenerateWindow {
  regenerations: number;
  /** Responses that showed the generation stored before the window (the stale entry, served), and the others. */
  servedStale: number;
  servedNew: number;
  non200: number;
  p50ms: number;
  p99ms: number;
  maxMs: number;
}

/** Every window of one handler. */
export interface RegenerateRun {
  handler: RemoteHandler;
  /** Renders while warming up (one per process that had no entry, and any past \`revalidate\` meanwhile). */
  warmRenders: number;
  /** One request alone to a warm process, p50 ms, for scale. */
  aloneP50ms: number;
  windows: RegenerateWindow[];
  /** How long `next build` of the variant took in this run, ms (0: the build was current). */
  buildMs: number;
}

export interface RegenerateResult {
  options: RegenerateOptions;
  runs: RegenerateRun[];
}

const REVALIDATE_MS = 2_000;
const WORK_MS = 300;
const generationOf = (html: string) => Number(/id="generation">(\d+)</.exec(html)?.[1] ?? Number.NaN);

/** Runs comparison 10 for both handlers. */
export async function runRegenerate(ctx: BenchContext, options: RegenerateOptions, log: (line: string) => void): Promise<RegenerateResult> {
  const runs: RegenerateRun[] = [];
  for (const handler of ["next-cacheback", "default"] as const) {
    const buildMs = buildFixture(handler);
    if (buildMs > 0) log(`  next build of the fixture (${handler} handler): ${(buildMs / 1000).toFixed(1)} s (not part of any measurement)`);
    const run = await runHandler(ctx, handler, options);
    log(`  ${handler}: regenerations per window ${run.windows.map((w) => w.regenerations).join(", ")}`);
    runs.push({ ...run, buildMs });
  }
  return { options, runs };
}

async function runHandler(ctx: BenchContext, handler: RemoteHandler, options: RegenerateOptions): Promise<Omit<RegenerateRun, "buildMs">> {
  const prefix = `${ctx.runPrefix}:regen-${handler}:`;
  const counterKey = `${prefix}regenerations`;
  const env = { UPSTASH_REDIS_REST_URL: ctx.servers.redisUrl, UPSTASH_REDIS_REST_TOKEN: ctx.servers.redisToken, CACHEBACK_PREFIX: prefix };
  const servers: FixtureServer[] = await Promise.all(Array.from({ length: options.processes }, () => startFixture(handler, env)));
  const count = async () => Number((await ctx.admin.get(counterKey)) ?? 0);
  const page = async (server: FixtureServer) => {
    const t = performance.now();
    const response = await fetch(`${server.origin}/`);
    const html = await response.text();
    return { status: response.status, generation: generationOf(html), ms: performance.now() - t };
  };
  /** Resolves once the counter has not moved for `quietMs`. */
  const settled = async (quietMs: number) => {
    let last = await count();
    let since = Date.now();
    await until(
      "the regenerations to land",
      async () => {
        const now = await count();
        if (now !== last) [last, since] = [now, Date.now()];
        return Date.now() - since >= quietMs;
      },
      60_000,
      100,
    );
    return last;
  };
  try {
    // Warm up: the first process renders the entry; with next-cacheback's handler it lands in Redis after the
    // response, so wait for it before the others read (they then hit). The default handler keeps one per process.
    for (const server of servers) {
      const first = await page(server);
      if (first.status !== 200 || !Number.isFinite(first.generation)) throw new Error(`${server.origin} answered ${first.status} without a generation:\n${server.output().slice(-2000)}`);
      if (handler === "next-cacheback") await until("the entry in Redis", async () => (await ctx.admin.keys(`${prefix}hentry:*`)).length > 0, 10_000, 50);
      await settled(WORK_MS + 500);
    }
    // Then a few requests per process (code paths, JIT), and the latency of one request alone, for scale.
    await Promise.all(
      servers.map(async (server) => {
        for (let i = 0; i < 5; i++) await page(server);
      }),
    );
    const alone: number[] = [];
    for (let i = 0; i < 5; i++) alone.push((await page(servers[0]!)).ms);
    const warmRenders = await settled(WORK_MS + 500);
    const windows: RegenerateWindow[] = [];
    for (let w = 0; w < options.windows; w++) {
      await sleep(REVALIDATE_MS + 800);
      const before = await count();
      const results = await Promise.all(servers.flatMap((server) => Array.from({ length: options.readers }, () => page(server))));
      const after = await settled(WORK_MS + 1_500);
      windows.push({
        regenerations: after - before,
        servedStale: results.filter((r) => r.generation <= before).length,
        servedNew: results.filter((r) => r.generation > before).length,
        non200: results.filter((r) => r.status !== 200).length,
        ...summarize(results.map((r) => r.ms)),
      });
    }
    return { handler, warmRenders, aloneP50ms: summarize(alone).p50ms, windows };
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}

/** RESULTS.md section of comparison 10. */
export function regenerateSection(r: RegenerateResult): Section {
  const o = r.options;
  const label = (h: RemoteHandler) => (h === "next-cacheback" ? "next-cacheback/cache-handler" : "Next.js's default handler");
  const total = (run: RegenerateRun) => run.windows.reduce((n, w) => n + w.regenerations, 0);
  const body = [
    `The benchmark's own Next.js 16 app (\`bench/fixtures/remote-app\`: \`cacheComponents: true\`, a page whose \`'use cache: remote'\` ` +
      `component, \`cacheLife({ revalidate: 2, expire: 300 })\`, renders at request time inside \`<Suspense>\` after \`connection()\`; ` +
      `each run of the component takes ${WORK_MS} ms and counts itself with \`INCR\` in Redis, shared by every process). ${o.processes} ` +
      `\`next start\` processes of one build: \`cacheHandlers.remote\` set to a file that exports \`createCacheHandler({ redis })\` ` +
      `(an absolute path), or unset for Next.js's default handler. After a warm-up (every process has read the entry once), each of ` +
      `${o.windows} window(s) waits until the entry is past its \`revalidate\`, sends ${o.readers} requests to every process at the same ` +
      `moment, and counts the component's runs once they have landed (Next.js stores the new entry after the response).`,
    "",
    table(
      ["handler", "processes", "regenerations per window", "total", "responses showing the stale entry / a new one", "non-200", "p50 ms", "p99 ms", "max ms"],
      r.runs.map((run) => [
        label(run.handler),
        o.processes,
        run.windows.map((w) => w.regenerations).join(", "),
        total(run),
        `${run.windows.reduce((n, w) => n + w.servedStale, 0)} / ${run.windows.reduce((n, w) => n + w.servedNew, 0)}`,
        run.windows.reduce((n, w) => n + w.non200, 0),
        ms(Math.max(...run.windows.map((w) => w.p50ms))),
        ms(Math.max(...run.windows.map((w) => w.p99ms))),
        ms(Math.max(...run.windows.map((w) => w.maxMs))),
      ]),
    ),
    "",
    `- next-cacheback's handler serves the stale entry to every reader; one process wins the regeneration lock in Redis ` +
      `(\`SET NX PX\`) and regenerates in the background, the others are shown the entry as still within its \`revalidate\`.`,
    `- Next.js's default handler keeps entries in each process's memory and, in production, drops an entry once past its \`revalidate\`: ` +
      `every process blocks its readers and renders the component itself (deduplicated within a process only).`,
    `- Latencies are the slowest window's, measured by the benchmark's client. One request alone to a warm process took ` +
      `${r.runs.map((run) => `${ms(run.aloneP50ms)} ms (${label(run.handler)})`).join(" and ")} at p50; in a window, ${o.processes} processes render ` +
      `${o.processes * o.readers} pages at once on the same cores, so the figures are mostly queueing.`,
  ].join("\n");
  return { title: "10. Regenerations of a stale 'use cache: remote' entry across processes", body };
}
