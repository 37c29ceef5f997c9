/**
 * 8. Tags: what tags cost on the hit path, and what an invalidation costs.
 *
 * - Hit: a fresh entry with 8 tags, read with `cb.fetch(key, fn, { tags })`, next to next-cacheback's
 *   untagged hit, against a bare @upstash/redis `get` of the same entry (rounds as in comparison 1); HTTP
 *   requests and Redis commands per hit counted at the REST server. bentocache 1 with the same 8 tags (it
 *   keeps a timestamp key per tag and reads them beside the entry) against a bare ioredis `get`, its
 *   commands counted by MONITOR.
 * - Invalidation: `cb.revalidateTag([...n tags])` for n = 1, 10, 100, once with 100 and once with 10,000
 *   tagged entries stored (each population under a prefix of its own): HTTP requests, Redis commands and
 *   latency per invalidation. bentocache's `deleteByTag({ tags })` beside it.
 */
import { BentoCache, bentostore } from "bentocache";
import { redisDriver } from "bentocache/drivers/redis";
import { ioredisClient, JOB, upstashClient } from "../lib/contenders.js";
import { REDIS_URL, type BenchContext } from "../lib/context.js";
import { runBatch, sleep, summarize } from "../lib/measure.js";
import { lib } from "../lib/package.js";
import { clientAddress } from "../lib/redis-monitor.js";
import { ms, table, type Section } from "../lib/report.js";
import { roundCells, runRounds, type RoundFigures, type RoundSizes, type RoundSubject } from "../lib/rounds.js";

/** Sizes of the tags comparison. */
export interface TagsOptions {
  hit: RoundSizes;
  /** Entries stored for the invalidation runs (the figures must not depend on it). */
  populations: number[];
  /** Tags invalidated per call. */
  tagCounts: number[];
  /** Invalidations timed per population and tag count. */
  repeats: number;
}

/** One reader of the hit part. */
export interface TagsHitRow extends RoundFigures {
  id: "bare-upstash" | "untagged" | "tagged" | "bare-ioredis" | "bentocache-tagged";
  label: string;
}

/** One population and tag count of the invalidation part. */
export interface InvalidationRow {
  library: "next-cacheback" | "bentocache";
  entries: number;
  tags: number;
  requests: number;
  commands: number;
  p50ms: number;
  p99ms: number;
}

export interface TagsResult {
  options: TagsOptions;
  hit: TagsHitRow[];
  invalidation: InvalidationRow[];
}

const PERIODS = { lifetime: 3600, ttl: 86_400 };
const VALUE = { id: 42, title: "A post title of moderate length", tags: ["a", "b", "c"], body: "x".repeat(400) };
const HIT_TAGS = ["posts", "post:42", "user:7", "feed:home", "lang:en", "region:eu", "kind:article", "v:1"];
const noQueue = { name: "none", publish: async () => ({ messageId: "-" }) };
const fetcher = async (): Promise<never> => {
  throw new Error("the fetcher ran: the read was not a hit");
};

/** The 8 tags of population entry `i`; `all`, 10 groups and 100 groups let n = 1, 10, 100 tags cover every entry. */
const tagsOf = (i: number) => ["all", `g10:${i % 10}`, `g100:${i % 100}`, `g1000:${i % 1000}`, `item:${i}`, "kind:item", `shard:${i % 16}`, "v:1"];
const invalidated = (n: number) => (n === 1 ? ["all"] : Array.from({ length: n }, (_, g) => (n <= 10 ? `g10:${g}` : `g100:${g % 100}`)));

/** Runs comparison 8. */
export async function runTags(ctx: BenchContext, options: TagsOptions, log: (line: string) => void): Promise<TagsResult> {
  const hit = await runHits(ctx, options.hit);
  const invalidation: InvalidationRow[] = [];
  for (const entries of options.populations) invalidation.push(...(await runInvalidations(ctx, entries, options, log)));
  invalidation.push(...(await runBentoInvalidations(ctx, options)));
  return { options, hit, invalidation };
}

function bentoOn(ctx: BenchContext, name: string) {
  const connection = ioredisClient({ ioredisUrl: REDIS_URL }, name);
  const bento = new BentoCache({ default: "redis", prefix: `${ctx.runPrefix}:${name}`, stores: { redis: bentostore().useL2Layer(redisDriver({ connection })) } });
  return { connection, bento };
}

async function runHits(ctx: BenchContext, sizes: RoundSizes): Promise<TagsHitRow[]> {
  const cb = new lib.Cacheback({ redis: upstashClient(ctx.servers), queue: noQueue, refreshUrl: ctx.refreshUrl, prefix: `${ctx.runPrefix}:tags-hit:`, nextCache: false, defaults: PERIODS });
  await cb.set([JOB, "tagged"], VALUE, { tags: HIT_TAGS });
  await cb.set([JOB, "untagged"], VALUE);
  const first = await cb.fetchWithStatus([JOB, "tagged"], fetcher, { tags: HIT_TAGS });
  if (first.status !== "hit") throw new Error(`the tagged entry read as ${first.status}, not a hit`);
  const bare = upstashClient(ctx.servers);
  const taggedKey = cb.key([JOB, "tagged"]);

  const { connection, bento } = bentoOn(ctx, "bento-tags");
  const bentoOptions = { ttl: PERIODS.lifetime * 1000, grace: PERIODS.ttl * 1000, timeout: 0, tags: HIT_TAGS };
  await bento.set({ key: "tagged", value: VALUE, ...bentoOptions });
  const bareIoredis = ioredisClient({ ioredisUrl: REDIS_URL }, "bench-tags-bare-ioredis");
  const bentoKey = `${ctx.runPrefix}:bento-tags:tagged`;
  if ((await bareIoredis.get(bentoKey)) === null) throw new Error(`bentocache stored nothing under ${bentoKey}`);
  const bentoRead = () => bento.getOrSet({ key: "tagged", factory: fetcher, ...bentoOptions });
  if (JSON.stringify(await bentoRead()) !== JSON.stringify(VALUE)) throw new Error("bentocache did not hit the tagged entry");

  const subjects: (RoundSubject & { id: TagsHitRow["id"]; label: string })[] = [
    { id: "bare-upstash", label: "bare @upstash/redis get", baseline: "bare-upstash", transport: "upstash", op: () => bare.get(taggedKey) },
    { id: "untagged", label: "next-cacheback, no tags", baseline: "bare-upstash", transport: "upstash", op: () => cb.fetch([JOB, "untagged"], fetcher) },
    { id: "tagged", label: "next-cacheback, 8 tags", baseline: "bare-upstash", transport: "upstash", op: () => cb.fetch([JOB, "tagged"], fetcher, { tags: HIT_TAGS }) },
    { id: "bare-ioredis", label: "bare ioredis get", baseline: "bare-ioredis", transport: "ioredis", op: () => bareIoredis.get(bentoKey), address: () => clientAddress(bareIoredis) },
    { id: "bentocache-tagged", label: "bentocache 1, 8 tags", baseline: "bare-ioredis", transport: "ioredis", op: bentoRead, address: () => clientAddress(connection) },
  ];
  const figures = await runRounds(ctx, subjects, sizes);
  await bento.disconnectAll();
  bareIoredis.disconnect();
  return subjects.map((s) => ({ id: s.id, label: s.label, ...figures.get(s.id)! }));
}

async function runInvalidations(ctx: BenchContext, entries: number, options: TagsOptions, log: (line: string) => void): Promise<InvalidationRow[]> {
  const cb = new lib.Cacheback({ redis: upstashClient(ctx.servers), queue: noQueue, refreshUrl: ctx.refreshUrl, prefix: `${ctx.runPrefix}:tags-${entries}:`, nextCache: false, defaults: PERIODS });
  const started = performance.now();
  await runBatch((i) => cb.set([JOB, `e${i}`], { i }, { tags: tagsOf(i) }), entries, 64);
  log(`  tags: stored ${entries} tagged entries in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await cb.revalidateTag("warm-up"); // the first call of a script on a server is EVALSHA, then EVAL
  const rows: InvalidationRow[] = [];
  for (const n of options.tagCounts) {
    const tags = invalidated(n);
    const latencies: number[] = [];
    let requests = 0;
    let commands = 0;
    for (let r = 0; r < options.repeats; r++) {
      await ctx.servers.resetStats();
      const t = performance.now();
      await cb.revalidateTag(tags);
      latencies.push(performance.now() - t);
      const { stats } = await ctx.servers.stats();
      requests += stats.requests;
      commands += stats.commands;
    }
    rows.push({ library: "next-cacheback", entries, tags: n, requests: requests / options.repeats, commands: commands / options.repeats, ...summarize(latencies) });
  }
  // The invalidations reached the entries: the first, the last and one in the middle now read as stale by a tag.
  for (const i of [0, Math.floor(entries / 2), entries - 1]) {
    const read = await cb.fetchWithStatus([JOB, `e${i}`], fetcher, { tags: tagsOf(i) });
    if (read.status !== "stale" || read.reason !== "tag") throw new Error(`entry ${i} of ${entries} read as ${read.status}/${read.reason} after the invalidations`);
  }
  return rows;
}

async function runBentoInvalidations(ctx: BenchContext, options: TagsOptions): Promise<InvalidationRow[]> {
  const { connection, bento } = bentoOn(ctx, "bento-inval");
  const entries = Math.min(...options.populations);
  for (let i = 0; i < entries; i++) await bento.set({ key: `e${i}`, value: { i }, ttl: PERIODS.lifetime * 1000, tags: tagsOf(i) });
  const rows: InvalidationRow[] = [];
  for (const n of options.tagCounts) {
    const tags = invalidated(n);
    const counter = await ctx.monitor.commandsFrom(await clientAddress(connection));
    const latencies: number[] = [];
    for (let r = 0; r < options.repeats; r++) {
      const t = performance.now();
      await bento.deleteByTag({ tags });
      latencies.push(performance.now() - t);
    }
    await sleep(200);
    ctx.monitor.drop(counter);
    rows.push({ library: "bentocache", entries, tags: n, requests: Number.NaN, commands: counter.count / options.repeats, ...summarize(latencies) });
  }
  await bento.disconnectAll();
  return rows;
}

/** RESULTS.md section of comparison 8. */
export function tagsSection(r: TagsResult): Section {
  const o = r.options.hit;
  const row = (id: TagsHitRow["id"]) => r.hit.find((x) => x.id === id)!;
  const tagged = row("tagged");
  const cell = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : "n/a (TCP)");
  const ours = r.invalidation.filter((x) => x.library === "next-cacheback");
  const flat = ours.every((x) => Math.abs(x.requests - 1) < 0.01 && Math.abs(x.commands - 1) < 0.01);
  const bento = row("bentocache-tagged");
  const body = [
    `**Hit.** A fresh entry with 8 tags, read with \`cb.fetch(key, fn, { tags })\` (the stored tags and the read's agree), in ${o.rounds} ` +
      `rounds of ${o.sequential} hits one at a time and ${o.concurrent} with ${o.inFlight} in flight, as in comparison 1. Ratios divide by the ` +
      `bare \`get\` of the same entry on the same client run alternately with it (median, range over rounds).`,
    "",
    table(
      ["reader", "seq. hits/s", "seq. p50 ms", "seq. p99 ms", `${o.inFlight} in flight hits/s`, "p50 ms", "p99 ms", "seq. ratio (range)", `${o.inFlight}-in-flight ratio (range)`, "HTTP requests per hit", "Redis commands per hit", "client CPU µs per hit (seq. / in flight)"],
      r.hit.map((x) => [
        x.label,
        ...roundCells(x, x.id.startsWith("bare")),
        x.requestsPerOp ? cell(x.requestsPerOp.sequential) : "n/a (TCP)",
        cell(x.commandsPerOp),
        `${x.sequential.cpuUsPerOp.toFixed(0)} / ${x.concurrent.cpuUsPerOp.toFixed(0)}`,
      ]),
    ),
    "",
    `- next-cacheback's hit with 8 tags: ${cell(tagged.requestsPerOp!.sequential)} HTTP request and ${cell(tagged.commandsPerOp)} Redis command ` +
      `(one \`MGET\` of the entry and its 8 tags' stamps), counted at the REST server (goal: 1 and 1). With ${o.inFlight} in flight, where ` +
      `the client's CPU sets the pace, the client CPU column shows what reading and checking 8 stamps beside the entry costs it.`,
    `- bentocache 1 with the same 8 tags, Redis only (no memory tier): ${cell(bento.commandsPerOp)} commands per hit, counted by MONITOR: ` +
      `a \`GET\` of the entry, then of each tag's timestamp key (\`___bc:t:<tag>\`), one round trip after another; a tag never ` +
      `invalidated (no key) is read twice, the second time under bentocache's in-process lock for that miss.`,
    "",
    `**Invalidation.** \`cb.revalidateTag([...n tags])\` with ${r.options.populations.map((n) => n.toLocaleString("en-US")).join(" and ")} ` +
      `entries stored (each entry has 8 tags; n = 1 is a tag every entry has, n = 10 and 100 cover every entry by group), ${r.options.repeats} ` +
      `times each; HTTP requests and Redis commands per call counted at the REST server. bentocache's \`deleteByTag({ tags })\` beside it ` +
      `(commands by MONITOR). Afterwards, entries read as stale by a tag (checked).`,
    "",
    table(
      ["cache", "entries stored", "tags invalidated", "HTTP requests", "Redis commands", "p50 ms", "p99 ms"],
      r.invalidation.map((x) => [x.library, x.entries.toLocaleString("en-US"), x.tags, Number.isFinite(x.requests) ? x.requests.toFixed(2) : "n/a (TCP)", x.commands.toFixed(2), ms(x.p50ms), ms(x.p99ms)]),
    ),
    "",
    flat
      ? `- next-cacheback: 1 request and 1 command (one script writing one stamp per tag) for every n and every population: the cost does not depend on the number of entries, and no SCAN or member set is involved.`
      : `- next-cacheback's requests or commands per invalidation were not 1 in every row: see the table.`,
    `- bentocache writes one timestamp key per tag, one \`SET\` after another: n commands and n round trips, also independent of the number of entries.`,
  ].join("\n");
  return { title: "8. Tags: the hit and the invalidation", body };
}
