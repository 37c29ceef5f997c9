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

// A `set` or `invalidate` racing a refresh that started earlier, in randomised interleavings of every store
// call and of the moment the source answers. The model: a database whose value the writer changes before
// each cache write (`set` writes the new value through; `invalidate` marks the entry stale and queues a
// refresh, delivered at once). Whatever the order, at the end the cache holds the database's newest value,
// fresh: no write is lost and no refresh overwrites newer data. The controlled clock moves 0-2 ms per step,
// so events often share a millisecond. Replay a failure with RELIABILITY_SEED=<seed>.

const SEED = runSeed();
const MEMORY_RUNS = 600;
const REDIS_RUNS = 40;

interface Run extends InterleavingRun {
  writerOps: string[];
}

async function oneInterleaving(
  random: () => number,
  backing: Backing,
  prefix: string,
): Promise<Run> {
  const scheduler = new Scheduler();
  const db = { value: 0 };
  const published: RefreshMessage[] = [];
  const symbol = "RACE";
  const source = async (s: string) => {
    await scheduler.gate("source");
    return { symbol: s, v: db.value };
  };
  const startRefresh = (message: RefreshMessage) => scheduler.spawn("refresh", () => cb.runRefresh(message, source, undefined));
  const queue: RefreshQueue = {
    name: "instant",
    publish: async (body) => {
      if (!("job" in body)) throw new Error("a batch: these tests publish each refresh at once (batchWindow: 0)");
      const message = body;
      published.push(message);
      if (scheduler.active) startRefresh(message);
      return { messageId: `m${published.length}` };
    },
  };
  const cb: Cacheback = new Cacheback({
    store: gatedStore(backing.store, scheduler),
    queue,
    now: backing.now,
    prefix,
    refreshUrl: "https://app.example/api/cacheback",
    batchWindow: 0,
    runInBackground: async (task) => {
      await task().catch(() => undefined);
    },
  });

  // An old entry, stale; a read queues the refresh that will race the writer.
  await cb.set(["quote", symbol], { symbol, v: 0 }, { lifetime: 0 });
  backing.advance(randomInt(random, 0, 2));
  const read = await cb.fetchWithStatus(["quote", symbol], source, { lifetime: 60 });
  await read.background;
  if (read.status !== "stale" || published.length !== 1) return { ok: false, detail: `setup: ${read.status}, ${published.length} messages`, writerOps: [] };
  backing.advance(randomInt(random, 0, 2));

  scheduler.active = true;
  startRefresh(published[0] as RefreshMessage);
  const writerOps = Array.from({ length: randomInt(random, 1, 3) }, () => (random() < 0.5 ? "set" : "invalidate"));
  await drive(scheduler, random, {
    writerStartsAfter: randomInt(random, 0, 3), // the refresh has at least 4 gates, so it is still running
    writer: async () => {
      for (const op of writerOps) {
        db.value++;
        if (op === "set") await cb.set(["quote", symbol], { symbol, v: db.value }, { lifetime: 60 });
        else await cb.invalidate(["quote", symbol], { lifetime: 60 });
      }
    },
    advance: backing.advance,
    randomInt,
  });
  scheduler.active = false;

  const final = await cb.peek<{ v: number }>(["quote", symbol]);
  const ok = scheduler.failures.length === 0 && final.status === "hit" && final.value?.v === db.value;
  return {
    ok,
    writerOps,
    detail:
      `writer ${writerOps.join(",")}; database ${db.value}; cache ${JSON.stringify(final.value)} (${final.status}); ` +
      `failures ${scheduler.failures.map(String).join("; ") || "none"}; trace ${scheduler.trace.join(" ")}`,
  };
}

describe(`set / invalidate racing an earlier refresh (seed ${SEED})`, () => {
  it(`${MEMORY_RUNS} interleavings on the memory store with a controlled clock: the newest value always wins`, async () => {
    const random = seededRandom(SEED);
    const runs = await onMemoryStores(MEMORY_RUNS, (backing) => oneInterleaving(random, backing, "mem:"));
    expect(failureReport("memory", "lost a write", runs, SEED)).toBe("");
    // Both kinds of writer ran, many times.
    expect(runs.filter((r) => r.writerOps.includes("set")).length).toBeGreaterThan(MEMORY_RUNS / 3);
    expect(runs.filter((r) => r.writerOps.includes("invalidate")).length).toBeGreaterThan(MEMORY_RUNS / 3);
  });

  describe("through the official client on Redis", () => {
    let rest: RedisRestServer;
    beforeAll(async () => {
      rest = await startRedisRestServer({ port: 0 });
    });
    afterAll(async () => {
      await rest?.close();
    });

    it(`${REDIS_RUNS} interleavings with the real clock: the newest value always wins`, async () => {
      const random = seededRandom(SEED ^ 0x5eed);
      const store = new UpstashStore(new Redis({ url: rest.url, token: rest.token }));
      const runs: Run[] = [];
      for (let i = 0; i < REDIS_RUNS; i++) {
        runs.push(await oneInterleaving(random, { store, now: Date.now, advance: () => undefined }, randomPrefix("interleave")));
      }
      expect(failureReport("Redis", "lost a write", runs, SEED)).toBe("");
    });
  });
});
