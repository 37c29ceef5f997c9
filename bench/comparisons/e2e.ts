/**
 * 6. End to end: autocannon against the example app under `next start`, on the same dev servers. Three
 * pages: a quote whose entry is fresh, a quote whose entry is stale while its refresh is under way (the
 * refresh lock is held, as during a slow refresh), and the uncached page that calls the slow source itself.
 */
import autocannon from "autocannon";
import { buildExample, startExample } from "../../test/e2e/example-app.js";
import { upstashClient } from "../lib/contenders.js";
import type { BenchContext } from "../lib/context.js";
import { lib } from "../lib/package.js";
import { ms, perSec, table, type Section } from "../lib/report.js";

/** Sizes of the end-to-end run. */
export interface E2eOptions {
  connections: number;
  /** Seconds per page. */
  duration: number;
  sourceDelayMs: number;
}

/** One page under load. */
export interface E2eRow {
  page: string;
  path: string;
  requests: number;
  requestsPerSec: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
  errors: number;
}

export interface E2eResult {
  rows: E2eRow[];
  options: E2eOptions;
  /** How long `next build` took in this run, ms (0: the build was current). */
  buildMs: number;
}

function quote(symbol: string) {
  return { symbol, price: 123.45, version: 1, fetchedAt: new Date().toISOString() };
}

/** Runs comparison 6. */
export async function runEndToEnd(ctx: BenchContext, options: E2eOptions, log: (line: string) => void): Promise<E2eResult> {
  const buildMs = buildExample();
  if (buildMs > 0) log(`  next build of the example: ${(buildMs / 1000).toFixed(1)} s (not part of any measurement)`);
  const prefix = `${ctx.runPrefix}:example:`;
  const app = await startExample((port) => ({
    ...ctx.servers.env,
    CACHEBACK_REFRESH_URL: `http://127.0.0.1:${port}/api/cacheback`,
    CACHEBACK_PREFIX: prefix,
    EXAMPLE_SOURCE_DELAY_MS: String(options.sourceDelayMs),
    EXAMPLE_LIFETIME: "3600",
  }));
  try {
    const cb = new lib.Cacheback({ redis: upstashClient(ctx.servers), prefix, queue: { name: "none", publish: async () => ({ messageId: "-" }) } });
    await cb.set(["quote", "ACME"], quote("ACME"), { lifetime: 3600 });
    await cb.set(["quote", "GLOBEX"], quote("GLOBEX"), { lifetime: 0 });
    // A refresh of GLOBEX is under way elsewhere: readers find the lock taken and serve the stale entry.
    const lockKey = cb.key(["quote", "GLOBEX"]).replace(`${prefix}entry:`, `${prefix}lock:`);
    await ctx.admin.set(lockKey, "held-by-the-benchmark", "PX", 600_000);

    const pages = [
      { page: "fresh (cached, fresh entry)", path: "/quotes/ACME", status: "hit" },
      { page: "stale (cached, refresh under way)", path: "/quotes/GLOBEX", status: "stale" },
      { page: `uncached (calls the ${options.sourceDelayMs} ms source)`, path: "/uncached/INITECH", status: undefined },
    ];
    for (const p of pages) {
      if (p.status) {
        const json = (await (await fetch(`${app.origin}/api${p.path}`)).json()) as { status: string };
        if (json.status !== p.status) throw new Error(`${p.path} is "${json.status}", expected "${p.status}"`);
      }
      const warm = await fetch(`${app.origin}${p.path}`);
      if (warm.status !== 200) throw new Error(`${p.path} answered ${warm.status}`);
      await warm.text();
    }

    const rows: E2eRow[] = [];
    for (const p of pages) {
      const result = await autocannon({ url: `${app.origin}${p.path}`, connections: options.connections, duration: options.duration });
      const ok = result["2xx"];
      rows.push({
        page: p.page,
        path: p.path,
        requests: ok + result.non2xx,
        requestsPerSec: ok / result.duration,
        p50ms: result.latency.p50,
        p99ms: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors,
      });
      log(`  e2e ${p.path}: ${(ok / result.duration).toFixed(0)} req/s, p99 ${result.latency.p99} ms`);
    }
    const after = (await (await fetch(`${app.origin}/api/quotes/GLOBEX`)).json()) as { status: string };
    if (after.status !== "stale") throw new Error(`the stale page was "${after.status}" at the end of its run`);
    return { rows, options, buildMs };
  } finally {
    await app.close();
  }
}

/** RESULTS.md section of comparison 6. */
export function e2eSection(result: E2eResult): Section {
  const o = result.options;
  const body = [
    `autocannon (${o.connections} connections, ${o.duration} s per page, in the benchmark's own process) against the example app ` +
      `under \`next start\` (a production build), on the same dev servers. The quote pages read through next-cacheback ` +
      `(\`quote.withStatus(symbol)\`); the uncached page calls the same ${o.sourceDelayMs} ms source directly. The stale page's ` +
      `refresh lock is held for the whole run, as while a slow refresh is under way, so every request is a stale read.`,
    "",
    table(
      ["page", "path", "requests", "requests/s", "p50 ms", "p99 ms", "non-2xx", "errors"],
      result.rows.map((r) => [r.page, `\`${r.path}\``, r.requests, perSec(r.requestsPerSec), ms(r.p50ms), ms(r.p99ms), r.non2xx, r.errors]),
    ),
    "",
    `- The load generator, \`next start\`, the dev servers and redis-server share the machine's cores, so these are the ` +
      `figures of one small box doing everything; the ratio between the pages is the point.`,
  ].join("\n");
  return { title: "6. End to end under next start", body };
}
