/**
 * The load run's traffic: autocannon over a seeded random mix of hot, warm and never-seen keys through the
 * example's API route, and server-rendered pages of hot keys. Every response is checked (the value asked
 * for) and booked to the phase it arrived in, with its cache status, its latency and, for a hot key's value
 * served stale, its age. Hot keys are read many times a second, so how long their values are served stale
 * is how long refreshes take to land; a warm key's stale read can come long after it went stale, whatever
 * the refreshes do.
 */
import autocannon from "autocannon";
import { statusOf, textOf } from "../../test/e2e/page.js";
import { seededRandom } from "../../test/helpers/prng.js";
import type { PhaseStats } from "./stats.js";

/** What is requested, and how often. */
export interface TrafficSettings {
  origin: string;
  connections: number;
  durationS: number;
  seed: number;
  hot: readonly string[];
  warm: readonly string[];
  /** Share of requests per kind (the rest are page loads of hot keys). */
  mix: { hot: number; warm: number; missing: number };
}

type Kind = "hot" | "warm" | "missing" | "page";
interface Context {
  kind?: Kind;
  symbol?: string;
  /** What the last response said; `hotEpisode` and `age` for hot keys only (pages are of hot keys). */
  last?: { cacheStatus: string; wrong: boolean; age?: number; hotEpisode?: string };
}

/** What the traffic saw besides the phases' figures. */
export interface TrafficResult {
  result: autocannon.Result;
  /** Distinct stale values served (symbol and version): each needs one refresh. */
  staleEpisodes: Set<string>;
  /** Never-seen keys requested. */
  missingServed: number;
  /** For each hot key's stale value (symbol and version): when it was first and last served stale, ms since the epoch. */
  staleSpans: Map<string, { first: number; last: number }>;
}

/** Runs the traffic for `durationS`; `phaseAt()` is the phase now. */
export async function driveTraffic(s: TrafficSettings, phaseAt: () => PhaseStats): Promise<TrafficResult> {
  const random = seededRandom(s.seed);
  let nextMissing = 0;
  const staleEpisodes = new Set<string>();
  const pick = (list: readonly string[]) => list[Math.floor(random() * list.length)] as string;
  const options: autocannon.Options = {
    url: s.origin,
    connections: s.connections,
    duration: s.durationS,
    timeout: 10,
    requests: [
      {
        method: "GET",
        path: `/api/quotes/${s.hot[0]}`,
        setupRequest: (req, context) => {
          const ctx = context as Context;
          const r = random();
          let kind: Kind;
          let symbol: string;
          if (r < s.mix.hot) [kind, symbol] = ["hot", pick(s.hot)];
          else if (r < s.mix.hot + s.mix.warm) [kind, symbol] = ["warm", pick(s.warm)];
          else if (r < s.mix.hot + s.mix.warm + s.mix.missing) [kind, symbol] = ["missing", `NEW${++nextMissing}`];
          else [kind, symbol] = ["page", pick(s.hot)];
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
          if (ctx.kind === "page") {
            const version = Number(textOf(body, "version")?.match(/version (\d+)/)?.[1]);
            const cacheStatus = statusOf(body).status ?? "unknown";
            const episode = `${ctx.symbol}:${version}`;
            if (cacheStatus === "stale") staleEpisodes.add(episode);
            ctx.last = { cacheStatus, wrong: !body.includes(`<h1>${ctx.symbol}</h1>`), hotEpisode: episode };
            return;
          }
          const json = JSON.parse(body) as { status: string; age: number | null; value: { symbol: string; version: number } };
          const episode = `${ctx.symbol}:${json.value.version}`;
          if (json.status === "stale") staleEpisodes.add(episode);
          // The age of a hot key's stale value: hot keys are read many times a second, so past its lifetime it is how long its refresh took.
          const hot = ctx.kind === "hot" ? { hotEpisode: episode, ...(json.age !== null ? { age: json.age } : {}) } : {};
          ctx.last = { cacheStatus: json.status, wrong: json.value.symbol !== ctx.symbol, ...hot };
        },
      },
    ],
  };
  let finish!: (result: autocannon.Result) => void;
  let fail!: (error: unknown) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const instance = autocannon(options, (error, result) => (error ? fail(error) : finish(result)));
  const spans = new Map<string, { first: number; last: number }>();
  instance.on("response", (client, statusCode, _bytes, responseTime) => {
    const phase = phaseAt();
    phase.responses++;
    if (statusCode < 200 || statusCode >= 300) phase.non2xx++;
    phase.latencies.push(responseTime);
    const last = (client as unknown as { requestIterator?: { context?: Context } }).requestIterator?.context?.last;
    const status = last?.cacheStatus ?? "unknown";
    phase.byCacheStatus[status] = (phase.byCacheStatus[status] ?? 0) + 1;
    (phase.latencyByCacheStatus[status] ??= []).push(responseTime);
    if (status === "stale" && last?.hotEpisode !== undefined) {
      const now = Date.now();
      const span = spans.get(last.hotEpisode);
      if (span) span.last = now;
      else spans.set(last.hotEpisode, { first: now, last: now });
      if (last.age !== undefined) phase.hotStaleAges.push(last.age);
    }
    if (last?.wrong) phase.wrongValues++;
  });
  instance.on("reqError", () => {
    phaseAt().errors++;
  });
  const result = await done;
  return { result, staleEpisodes, missingServed: nextMissing, staleSpans: spans };
}
