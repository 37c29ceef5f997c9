/**
 * The hit, layer by layer, through comparison 1's own rounds harness (bench/lib/rounds.ts): each reader
 * below runs in slices alternated with a bare `@upstash/redis` `get` of the same stored entry, and the
 * median ratio over rounds is printed with its range and the client CPU per hit.
 *
 *   bare2   a second bare client, the same call: an A/A check of the harness (expect 1.00 within noise)
 *   min     a bare get and a `.then` that picks the envelope's value: the least any wrapper can cost
 *   store   the same through `UpstashStore.get` (the envelope check and its extra promise)
 *   string  `cb.fetch("hit", fn)`: the whole read path with a string key
 *   ours    `cb.fetch(["item", "hit"], fn)`: the read comparison 1 times
 *
 *   npx tsx bench/profile/hit-layers.ts [readers, comma-separated (default all)] [rounds (default 20)] [hits in flight a round]
 *
 * Each run takes about a minute per reader (comparison 1's full sizes). It prints figures only; nothing is written.
 */
import "../lib/ensure-dist.js";
import { Client } from "@upstash/qstash";
import * as lib from "next-cacheback";
import { FULL_SIZES, PERIODS, VALUE } from "../comparisons/hit.js";
import { makeContender, upstashClient } from "../lib/contenders.js";
import { startBenchContext } from "../lib/context.js";
import { runRounds, spreadText, type RoundSubject } from "../lib/rounds.js";

const READERS = ["bare2", "min", "store", "string", "ours"] as const;
const asked = (process.argv[2] ?? READERS.join(",")).split(",");
const unknown = asked.filter((r) => !(READERS as readonly string[]).includes(r));
if (unknown.length > 0) throw new Error(`unknown reader ${unknown.join(", ")}; choose among ${READERS.join(", ")}`);
const rounds = Number(process.argv[3] ?? 20);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error("rounds must be a positive whole number");
const concurrent = Number(process.argv[4] ?? FULL_SIZES.concurrent);
if (!Number.isInteger(concurrent) || concurrent < 1) throw new Error("hits in flight a round must be a positive whole number");

// A fresh hit never calls the source: its delay does not matter here.
const ctx = await startBenchContext(20);
const ours = makeContender("next-cacheback", ctx.config("next-cacheback", PERIODS));
await ours.seedFresh("hit", VALUE);
const key = ours.rawKey("hit");

const pick = (entry: unknown) => (entry as { value: unknown } | null)?.value;
const fetcher = async () => VALUE;
const bare = upstashClient(ctx.servers);
const subjects: RoundSubject[] = [{ id: "bare", baseline: "bare", transport: "upstash", op: () => bare.get(key) }];
const add = (id: string, op: () => Promise<unknown>) => subjects.push({ id, baseline: "bare", transport: "upstash", op });
for (const reader of asked) {
  if (reader === "bare2") {
    const other = upstashClient(ctx.servers);
    add(reader, () => other.get(key));
  } else if (reader === "min") {
    const other = upstashClient(ctx.servers);
    add(reader, () => other.get(key).then(pick));
  } else if (reader === "store") {
    const store = new lib.UpstashStore(upstashClient(ctx.servers));
    add(reader, () => store.get(key).then(pick));
  } else if (reader === "string") {
    const cb = new lib.Cacheback({
      redis: upstashClient(ctx.servers),
      qstash: new Client({ baseUrl: ctx.servers.qstashUrl, token: ctx.servers.qstashToken }),
      refreshUrl: "http://127.0.0.1:9/api/cacheback", // a fresh hit publishes nothing
      prefix: "bench-layers:",
      defaults: { lifetime: PERIODS.freshMs / 1000, ttl: (PERIODS.freshMs + PERIODS.staleMs) / 1000 },
    });
    await cb.set("hit", VALUE);
    add(reader, () => cb.fetch("hit", fetcher));
  } else {
    add(reader, ours.hitOp("hit"));
  }
}

const figures = await runRounds(ctx, subjects, { ...FULL_SIZES, rounds, concurrent });
console.log(`${rounds} rounds, ${concurrent} hits in flight a round; ratio of throughput to the bare get (median, range); client CPU µs per hit`);
for (const s of subjects) {
  const f = figures.get(s.id)!;
  console.log(
    `${s.id.padEnd(7)} one at a time ${spreadText(f.ratio.sequential)}   64 in flight ${spreadText(f.ratio.concurrent)}   ` +
      `CPU ${f.sequential.cpuUsPerOp.toFixed(0)} / ${f.concurrent.cpuUsPerOp.toFixed(1)} µs`,
  );
}
await ours.close();
await ctx.close();
process.exit(0);
