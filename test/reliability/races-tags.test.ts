import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cacheback } from "../../src/cacheback.js";
import { startRedisRestServer, type RedisRestServer } from "../../packages/dev/src/index.js";
import type { RefreshMessage } from "../../src/message.js";
import type { RefreshQueue } from "../../src/queues/types.js";
import { UpstashStore } from "../../src/stores/upstash.js";
import { randomInt, runSeed, seededRandom } from "../helpers/prng.js";
import { randomPrefix } from "../helpers/wait.js";
import { drive, failureReport, gatedStore, onMemoryStores, Scheduler, type Backing, type InterleavingRun } from "./interleave.js";

// Tag invalidations, and sets, racing a refresh that started before them, in randomised interleavings of
// every store call and of the moment the source answers. The model: a database whose value the writer
// changes before each operation (`set` writes the new value through; `revalidateTag` and `updateTag`
// invalidate the entry's tag). Whatever the order, once the writer is done no read ever serves an old
// value as fresh, and reads (each queueing its refresh, delivered at once) reach the newest value within
// a few steps. Replay a failure with RELIABILITY_SEED=<seed>.

const SEED = runSeed();
const MEMORY_RUNS = 400;
const REDIS_RUNS = 30;
const TAGS = ["quotes", "quote:RACE"];
type Op = "set" | "revalidateTag" | "updateTag";
const OPS: Op[] = ["set", "revalidateTag", "updateTag"];

interface Run extends InterleavingRun {
  writerOps: Op[];
}

async function oneInterleaving(random: () => number, backing: Backing, prefix: string): Promise<Run> {
  const scheduler = new Scheduler();
  const db = { value: 0 };
  const published: RefreshMessage[] = [];
  const key = ["quote", "RACE"] as const;
  const source = async (s: string) => {
    await scheduler.gate("source");
    return { symbol: s, v: db.value };
  };
  const queue: RefreshQueue = {
    name: "instant",
    publish: async (body) => {
      if (!("job" in body)) throw new Error("a batch: these tests publish each refresh at once (batchWindow: 0)");
      const message = body;
      published.push(message);
      if (scheduler.active) scheduler.spawn("refresh", () => instance(true).runRefresh(message, source, undefined));
      return { messageId: `m${published.length}` };
    },
  };
  // A new instance per reader after the race: each is "another process", with no memo of earlier requests.
  const instance = (gated: boolean) =>
    new Cacheback({
      store: gated ? gatedStore(backing.store, scheduler) : backing.store,
      queue,
      now: backing.now,
      prefix,
      refreshUrl: "https://app.example/api/cacheback",
    batchWindow: 0,
      nextCache: false,
      runInBackground: async (task) => {
        await task().catch(() => undefined);
      },
    });
  const writer = instance(true);

  // A fresh tagged entry, then a revalidation: a read queues the refresh that will race the writer.
  await writer.set(key, { symbol: "RACE", v: 0 }, { lifetime: 60, tags: TAGS });
  await writer.revalidateTag("quotes");
  backing.advance(randomInt(random, 0, 2));
  const read = await writer.fetchWithStatus(key, source, { lifetime: 60, tags: TAGS });
  await read.background;
  if (read.status !== "stale" || published.length !== 1) return { ok: false, detail: `setup: ${read.status}, ${published.length} messages`, writerOps: [] };

  scheduler.active = true;
  scheduler.spawn("refresh", () => instance(true).runRefresh(published[0] as RefreshMessage, source, undefined));
  const writerOps = Array.from({ length: randomInt(random, 1, 3) }, () => OPS[randomInt(random, 0, OPS.length - 1)] as Op);
  await drive(scheduler, random, {
    writerStartsAfter: randomInt(random, 0, 3),
    writer: async () => {
      for (const op of writerOps) {
        db.value++;
        if (op === "set") await writer.set(key, { symbol: "RACE", v: db.value }, { lifetime: 60, tags: TAGS });
        else if (op === "revalidateTag") await writer.revalidateTag(random() < 0.5 ? "quotes" : "quote:RACE");
        else await writer.updateTag(TAGS);
      }
    },
    advance: backing.advance,
    randomInt,
  });
  scheduler.active = false;

  // After the race: every read is either stale (and its refresh runs), a miss fetched afresh, or fresh
  // with the newest value; never fresh with an old one.
  const seen: string[] = [];
  let ok = scheduler.failures.length === 0;
  let reached = false;
  for (let step = 0; step < 6 && ok && !reached; step++) {
    backing.advance(1);
    const before = published.length;
    const r = await instance(false).fetchWithStatus(key, source, { lifetime: 60, tags: TAGS });
    await r.background;
    seen.push(`${r.status}:${r.value.v}`);
    if (r.status === "hit") {
      ok = r.value.v === db.value;
      reached = true;
    } else if (published.length > before) {
      await instance(false).runRefresh(published.at(-1) as RefreshMessage, source, undefined);
    }
  }
  ok &&= reached;
  return {
    ok,
    writerOps,
    detail:
      `writer ${writerOps.join(",")}; database ${db.value}; reads ${seen.join(" ")}; ` +
      `failures ${scheduler.failures.map(String).join("; ") || "none"}; trace ${scheduler.trace.join(" ")}`,
  };
}

describe(`tag invalidations and sets racing an earlier refresh (seed ${SEED})`, () => {
  it(`${MEMORY_RUNS} interleavings on the memory store with a controlled clock: never an old value served fresh`, async () => {
    const random = seededRandom(SEED ^ 0x7a95);
    const runs = await onMemoryStores(MEMORY_RUNS, (backing) => oneInterleaving(random, backing, "mem:"));
    expect(failureReport("memory", "served an old value as fresh or never converged", runs, SEED)).toBe("");
    for (const op of OPS) expect(runs.filter((r) => r.writerOps.includes(op)).length, op).toBeGreaterThan(MEMORY_RUNS / 4);
  });

  describe("through the official client on Redis", () => {
    let rest: RedisRestServer;
    beforeAll(async () => {
      rest = await startRedisRestServer({ port: 0 });
    });
    afterAll(async () => {
      await rest?.close();
    });

    it(`${REDIS_RUNS} interleavings with the real clock: never an old value served fresh`, async () => {
      const random = seededRandom(SEED ^ 0x7a96);
      const store = new UpstashStore(new Redis({ url: rest.url, token: rest.token }));
      const runs: Run[] = [];
      for (let i = 0; i < REDIS_RUNS; i++) {
        runs.push(await oneInterleaving(random, { store, now: Date.now, advance: () => undefined }, randomPrefix("interleave-tags")));
      }
      expect(failureReport("Redis", "served an old value as fresh or never converged", runs, SEED)).toBe("");
    });
  });
});
