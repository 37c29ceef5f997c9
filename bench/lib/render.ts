/**
 * Turns the figures of a run into RESULTS.md and the chart's panels.
 */
import type { BytesRow } from "../comparisons/bytes.js";
import { bytesSection } from "../comparisons/bytes.js";
import { e2eSection, type E2eResult } from "../comparisons/e2e.js";
import { hitSection, type HitResult } from "../comparisons/hit.js";
import { freezeSection, stampedeSection, type InstancesRun } from "../comparisons/instances.js";
import { missSection, type MissRow } from "../comparisons/miss.js";
import { staleSection, type StaleResult } from "../comparisons/stale.js";
import type { Panel } from "./chart.js";
import { LABELS, LIBRARIES, type Library } from "./contenders.js";
import type { Machine } from "./machine.js";
import { costHeadline, costSections, type CostResults } from "./render-cost.js";
import { ms, ratio, type Section } from "./report.js";

/** Everything one run found (also written as results.json). */
export interface Results extends CostResults {
  machine: Machine;
  command: string;
  sourceDelayMs: number;
  durationSeconds?: number;
  loadAtEnd?: number[];
  bytes?: BytesRow[];
  hit?: HitResult;
  stale?: StaleResult;
  miss?: MissRow[];
  stampede?: InstancesRun[];
  freeze?: InstancesRun[];
  e2e?: E2eResult;
}

/** Library names in the chart, short enough for its axes and legends. */
const SHORT: Record<Library, string> = { "next-cacheback": "next-cacheback", cachified: "cachified", bentocache: "bentocache", unkey: "unkey/cache" };

/** The chart's panels for what the run measured. */
export function chartPanels(r: Results): Panel[] {
  const panels: Panel[] = [];
  const order: Library[] = ["next-cacheback", "cachified", "unkey", "bentocache"];
  if (r.hit) {
    const hit = r.hit;
    const rows = order.map((library) => hit.rows.find((row) => row.who === library)!);
    panels.push({
      title: "1. Hit throughput relative to a bare get",
      subtitle: "Each cache ÷ a bare get on its own client library (higher is better; 1 = the physical limit)",
      yTitle: "throughput ÷ bare get",
      series: ["sequential", `${hit.options.inFlight} in flight`],
      rule: { value: 1, label: "bare get" },
      bars: rows.flatMap((row) => {
        const seq = row.ratio.sequential.median;
        const con = row.ratio.concurrent.median;
        return [
          { group: SHORT[row.who as Library], series: "sequential", value: seq, label: seq.toFixed(2) },
          { group: SHORT[row.who as Library], series: `${hit.options.inFlight} in flight`, value: con, label: con.toFixed(2) },
        ];
      }),
    });
  }
  if (r.stale) {
    const c = Math.max(...r.stale.options.concurrency);
    const rows = order.map((library) => r.stale!.rows.find((row) => row.library === library && row.concurrency === c)!);
    panels.push({
      title: `2. Read latency while the ${r.stale.sourceDelayMs / 1000} s source refreshes`,
      subtitle: `p99 of stale reads during the refresh vs fresh hits after it, ${c} in flight (lower is better)`,
      yTitle: "p99 latency, ms",
      series: ["fresh hit p99", "stale read p99"],
      bars: rows.flatMap((row) => [
        { group: SHORT[row.library], series: "fresh hit p99", value: row.hit.p99ms, label: row.hit.p99ms.toFixed(1) },
        { group: SHORT[row.library], series: "stale read p99", value: row.stale.p99ms, label: row.stale.p99ms.toFixed(1) },
      ]),
    });
  }
  if (r.stampede) {
    const ks = [...new Set(r.stampede.map((x) => x.instances))];
    panels.push({
      title: "3. Source runs when K instances read one stale key",
      subtitle: `${r.stampede[0]?.readers} concurrent readers per instance, one refresh window (lower is better; goal 1)`,
      yTitle: "source runs",
      series: order.map((l) => SHORT[l]),
      rule: { value: 1, label: "goal" },
      bars: ks.flatMap((k) =>
        order.map((library) => {
          const run = r.stampede!.find((x) => x.instances === k && x.library === library)!;
          return { group: `K = ${k}`, series: SHORT[library], value: run.sourceRuns };
        }),
      ),
    });
  }
  if (r.freeze) {
    const k = r.freeze[0]?.instances ?? 0;
    panels.push({
      title: `4. Refreshes completed when ${k} instances exit after serving`,
      subtitle: "As a serverless function frozen after its response; bar label: how long the instances stayed up",
      yTitle: "refreshes completed",
      series: ["exit after serving", "+ waitUntil honoured"],
      bars: r.freeze.map((run) => ({
        group: SHORT[run.library],
        series: run.mode === "freeze-waituntil" ? "+ waitUntil honoured" : "exit after serving",
        value: run.completed,
        label: `${run.completed} (${run.lingerMs < 1000 ? `${Math.round(run.lingerMs)} ms` : `${(run.lingerMs / 1000).toFixed(1)} s`})`,
      })),
    });
  }
  if (r.e2e) {
    panels.push({
      title: "6. Example app under next start (autocannon)",
      subtitle: `${r.e2e.options.connections} connections; the uncached page calls the ${r.e2e.options.sourceDelayMs / 1000} s source (higher is better)`,
      yTitle: "requests/s",
      series: ["requests/s"],
      bars: r.e2e.rows.map((row) => ({ group: row.page.split(" (")[0]!, series: "requests/s", value: row.requestsPerSec, label: row.requestsPerSec.toFixed(0) })),
    });
  }
  if (r.bytes) {
    const values = [...new Set(r.bytes.map((x) => x.value))];
    panels.push({
      title: "7. Bytes stored per entry beyond the value",
      subtitle: "STRLEN of the stored entry minus the length of the value's own JSON (lower is better)",
      yTitle: "bytes",
      series: ["overhead"],
      bars: order.map((library) => {
        const row = r.bytes!.find((x) => x.library === library && x.value === values[0])!;
        return { group: SHORT[library], series: "overhead", value: row.storedBytes - row.jsonBytes };
      }),
    });
  }
  return panels;
}

/** Where a peer measured better than next-cacheback in this run, worked out from the figures. */
function peerWins(r: Results): string[] {
  const lines: string[] = [];
  const peers = LIBRARIES.filter((l) => l !== "next-cacheback");
  if (r.hit) {
    const ours = r.hit.rows.find((x) => x.who === "next-cacheback")!;
    for (const mode of ["sequential", "concurrent"] as const) {
      const better = r.hit.rows.filter((x) => x.transport === "upstash" && (peers as readonly Library[]).includes(x.who as Library) && x.ratio[mode].median > ours.ratio[mode].median + 0.05);
      const what = mode === "sequential" ? "one at a time" : `with ${r.hit.options.inFlight} in flight`;
      for (const x of better) {
        lines.push(
          `- Hits ${what}: ${LABELS[x.who as Library]} reached ${ratio(x.ratio[mode].median)} of the bare \`get\` against next-cacheback's ` +
            `${ratio(ours.ratio[mode].median)} (comparison 1).`,
        );
      }
    }
  }
  if (r.stale) {
    for (const c of r.stale.options.concurrency) {
      const at = (l: Library) => r.stale!.rows.find((x) => x.library === l && x.concurrency === c)!;
      const ours = at("next-cacheback");
      const oursRatio = ours.stale.p50ms / ours.hit.p50ms;
      const better = peers.filter((l) => at(l).stale.p50ms / at(l).hit.p50ms < oursRatio - 0.1);
      if (better.length > 0) {
        lines.push(
          `- Stale reads (${c} in flight), as a multiple of the same cache's hits at p50: ` +
            `${better.map((l) => `${LABELS[l]} ${ratio(at(l).stale.p50ms / at(l).hit.p50ms)}`).join(", ")}, next-cacheback ${ratio(oursRatio)} (comparison 2).`,
        );
      }
    }
  }
  if (r.stampede) {
    const k = Math.max(...r.stampede.map((x) => x.instances));
    const at = (l: Library) => r.stampede!.find((x) => x.library === l && x.instances === k)!;
    const better = peers.filter((l) => at(l).p99ms < at("next-cacheback").p99ms);
    if (better.length > 0) {
      lines.push(
        `- Reader latency in the K = ${k} stampede: worst instance p99 ${better.map((l) => `${ms(at(l).p99ms)} ms for ${LABELS[l]}`).join(", ")}, ` +
          `${ms(at("next-cacheback").p99ms)} ms for next-cacheback (comparison 3).`,
      );
    }
  }
  if (r.bytes) {
    const overhead = (l: Library) => Math.max(...r.bytes!.filter((x) => x.library === l).map((x) => x.storedBytes - x.jsonBytes));
    const better = peers.filter((l) => overhead(l) < overhead("next-cacheback"));
    if (better.length > 0) {
      lines.push(
        `- Bytes per entry beyond the value: ${better.map((l) => `${LABELS[l]} ${overhead(l)}`).join(", ")}, next-cacheback ${overhead("next-cacheback")} (comparison 7).`,
      );
    }
  }
  return lines;
}

function headline(r: Results): string[] {
  const lines: string[] = [];
  if (r.hit) {
    const ours = r.hit.rows.find((x) => x.who === "next-cacheback")!;
    lines.push(
      `- **Hit cost**: next-cacheback's hit runs at ${ratio(ours.ratio.sequential.median)} the throughput of a bare ` +
        `\`@upstash/redis\` \`get\` one at a time and ${ratio(ours.ratio.concurrent.median)} with ` +
        `${r.hit.options.inFlight} in flight, with ${ours.requestsPerHit!.sequential.toFixed(2)} HTTP round trip and ` +
        `${ours.commandsPerHit.toFixed(2)} Redis command per hit (counted at the server).`,
    );
  }
  if (r.stale) {
    const c = Math.max(...r.stale.options.concurrency);
    const ours = r.stale.rows.find((x) => x.library === "next-cacheback" && x.concurrency === c)!;
    lines.push(
      `- **Stale reads**: while the ${r.stale.sourceDelayMs} ms source refreshes, next-cacheback's stale reads take p50 ` +
        `${ours.stale.p50ms.toFixed(2)} ms / p99 ${ours.stale.p99ms.toFixed(1)} ms (fresh hits: ${ours.hit.p50ms.toFixed(2)} / ${ours.hit.p99ms.toFixed(1)} ms), ${c} in flight.`,
    );
  }
  if (r.stampede) {
    const k = Math.max(...r.stampede.map((x) => x.instances));
    const at = (library: Library) => r.stampede!.find((x) => x.instances === k && x.library === library)!.sourceRuns;
    lines.push(
      `- **Stampede, K = ${k} instances**: the source ran ${LIBRARIES.map((l) => `${at(l)}× for ${LABELS[l]}`).join(", ")}.`,
    );
  }
  if (r.freeze) {
    const k = r.freeze[0]?.instances ?? 0;
    lines.push(
      `- **Freeze, K = ${k}**: refreshes completed once the instances had exited: ` +
        r.freeze.map((x) => `${LABELS[x.library]}${x.mode === "freeze-waituntil" ? " + waitUntil" : ""} ${x.completed}`).join(", ") +
        ".",
    );
  }
  if (r.miss) {
    lines.push(`- **Miss stampede**: source calls for ${r.miss[0]?.readers} concurrent readers of a cold key: ${r.miss.map((x) => `${LABELS[x.library]} ${x.sourceRuns}`).join(", ")}.`);
  }
  if (r.e2e) {
    const [fresh, stale, uncached] = r.e2e.rows;
    if (fresh && stale && uncached) {
      lines.push(
        `- **End to end**: ${fresh.requestsPerSec.toFixed(0)} requests/s on the fresh page and ${stale.requestsPerSec.toFixed(0)} on the stale ` +
          `one, against ${uncached.requestsPerSec.toFixed(1)} on the uncached page (p99 ${fresh.p99ms} / ${stale.p99ms} / ${uncached.p99ms} ms).`,
      );
    }
  }
  lines.push(...costHeadline(r));
  return lines;
}

/** RESULTS.md for the run (`chart`: whether chart.svg was drawn next to it). */
export function resultsMarkdown(r: Results, chart: boolean): string {
  const m = r.machine;
  const sections: Section[] = [];
  if (r.hit) sections.push(hitSection(r.hit));
  if (r.stale) sections.push(staleSection(r.stale));
  if (r.stampede) sections.push(stampedeSection(r.stampede, r.sourceDelayMs));
  if (r.freeze) sections.push(freezeSection(r.freeze, r.sourceDelayMs));
  if (r.miss) sections.push(missSection(r.miss, r.sourceDelayMs));
  if (r.e2e) sections.push(e2eSection(r.e2e));
  if (r.bytes) sections.push(bytesSection(r.bytes));
  sections.push(...costSections(r));
  const versions = Object.entries(m.versions)
    .map(([name, v]) => `${name} ${v}`)
    .join(", ");
  return [
    "# Benchmarks",
    "",
    `Generated by \`${r.command}\` on ${m.date} in ${r.durationSeconds} s; every number below comes from that one run. ` +
      "Rerun the command to regenerate this file, `results.json` (the raw figures) and `chart.svg`.",
    "",
    table2([
      ["machine", `${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}`],
      ["Node.js", m.node],
      ["redis-server", m.redis],
      ["load average at start (1, 5, 15 min)", m.loadAtStart.join(", ")],
      ["load average at end", (r.loadAtEnd ?? []).join(", ")],
      ["commit", m.commit],
      ["packages", versions],
    ]),
    "",
    "## Headline",
    "",
    ...headline(r),
    "",
    ...(peerWins(r).length > 0 ? ["Where a peer did better in this run:", "", ...peerWins(r), ""] : []),
    ...(chart ? ["![Headline comparisons](chart.svg)", ""] : []),
    "## Setup",
    "",
    "- **Servers**: `startDevServers` from `next-cacheback-dev` (the Upstash Redis REST server bridged onto the local redis-server, and the " +
      "QStash server) runs in a process of its own, as Upstash is a service of its own, so the clients measured never share an event " +
      "loop with the server. bentocache and its bare `get` talk to the same redis-server directly with ioredis.",
    "- **Periods**: every cache is fresh for 1 hour and then serves stale for 1 day more. The source is an HTTP service in the " +
      `benchmark's process that takes ${r.sourceDelayMs} ms per call and counts its calls per key.`,
    "- **next-cacheback**: `new Cacheback({ redis, qstash, refreshUrl, prefix, defaults: { lifetime: 3600, ttl: 90000 } })`, read with " +
      "`cb.fetchWithStatus([\"item\", key], fetcher)` (the hit comparison times `cb.fetch([\"item\", key], fetcher)`, and each peer's own " +
      "call likewise). Its refresh route (`createRefreshHandler`) is served by the benchmark's process; the " +
      "QStash dev server delivers to it.",
    "- **@epic-web/cachified**: `cachified({ key, cache, ttl, swr, getFreshValue })`. Its documented Redis adapter, `cachified-redis-adapter`, " +
      "is written for node-redis and fails against `@upstash/redis`: it calls `set(key, JSON.stringify(entry), { EXAT })`, an option " +
      "@upstash/redis spells `exat` and silently drops (entries would never expire), and it `JSON.parse`s what `get` returns, which " +
      "@upstash/redis has already parsed (the parse throws and every read becomes a miss). The benchmark uses a minimal adapter over the " +
      "official client instead (`bench/lib/cachified-adapter.ts`): `get` returns the parsed entry, `set` stores it with `pxat` = created time + ttl + swr.",
    "- **bentocache**: `new BentoCache({ default: \"redis\", stores: { redis: bentostore().useL2Layer(redisDriver({ connection: ioredis })) } })`, " +
      "read with `getOrSet({ key, factory, ttl, grace, timeout: 0 })`. Redis only, like the others: with an in-memory L1 tier its hits " +
      "would not touch Redis at all (faster than any Redis `get`, but each instance then serves its own copy).",
    "- **@unkey/cache**: `createCache({ item: new Namespace(ctx, { stores: [new UpstashRedisStore({ redis })], fresh, stale }) })`, read with " +
      "`.swr(key, loader)`. The Upstash store only, for the same reason (no memory tier).",
    "- Ratios compare like with like: same client library, same server, same run. Round trips are counted where they arrive: by the " +
      "REST server for @upstash/redis, by redis-server (MONITOR) for ioredis; entry writes are counted by redis-server too.",
    "",
    ...sections.flatMap((s) => [`## ${s.title}`, "", s.body, ""]),
  ].join("\n");
}

function table2(rows: [string, string][]): string {
  return ["| | |", "| --- | --- |", ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join("\n");
}
