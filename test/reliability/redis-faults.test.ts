import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Cacheback } from "../../src/cacheback.js";
import { startFaultProxy, type FaultProxy } from "../helpers/fault-proxy.js";
import { startRedisProcess, type RedisProcess } from "../helpers/redis-process.js";
import { watchUnhandledRejections, type UnhandledWatch } from "../helpers/unhandled.js";
import { eventually } from "../helpers/wait.js";
import { errorsOf, recordEvents, startStack, timed, type Stack } from "./fixture.js";
import { countingQuote } from "../helpers/counting-source.js";

// Faults on Redis: the test's own redis-server (stopped, restarted, made to answer OOM errors) behind the
// Redis REST server, and a TCP proxy in front of the REST server (slow, refusing connections).
// Readers must get a value every time, within the bound `readTimeout` sets (default 1 s; asserted with a
// wide margin), with no unhandled rejection, and the cache must recover by itself.

/** Generous bound on one read while Redis misbehaves: readTimeout (1 s) plus the fetcher, plus slack for a busy machine. */
const READ_BOUND_MS = 3_000;

let redisProc: RedisProcess;
let stack: Stack;
let proxy: FaultProxy;
let unhandled: UnhandledWatch;
const { calls, quote } = countingQuote();

beforeAll(async () => {
  redisProc = await startRedisProcess();
  stack = await startStack({ redisUrl: redisProc.url, label: "redis-faults" });
  proxy = await startFaultProxy(stack.rest.port);
});

afterAll(async () => {
  await proxy?.close();
  await stack?.close();
  await redisProc?.close();
});

beforeEach(() => {
  unhandled = watchUnhandledRejections();
});

afterEach(async () => {
  proxy.delayMs = 0;
  await proxy.start();
  await redisProc.start();
  await redisProc.command("CONFIG", "SET", "maxmemory", "0");
  unhandled.dispose();
});

/** An instance whose Redis client goes through the fault proxy; refreshes go through the real QStash server. */
function viaProxy(overrides: Parameters<Stack["instance"]>[0] = {}): { cb: Cacheback; events: ReturnType<typeof recordEvents> } {
  const cb = stack.instance({ redis: stack.redisClient(proxy.url), ...overrides });
  stack.route(cb.createRefreshHandler({ jobs: { quote } }));
  return { cb, events: recordEvents(cb) };
}

async function readsHit(cb: Cacheback, symbol: string): Promise<boolean> {
  const r = await cb.fetchWithStatus(["quote", symbol], quote, { lifetime: 60 });
  await r.background;
  return r.status === "hit";
}

describe("Redis faults", () => {
  it("redis-server killed: the REST server answers 500, every read gets the fetcher's value within the bound, and the cache recovers after a restart", async () => {
    const { cb, events } = viaProxy();
    const first = await cb.fetchWithStatus(["quote", "KILL"], quote, { lifetime: 60 });
    await first.background;
    expect(first).toMatchObject({ status: "miss", value: { symbol: "KILL", n: 1 } });
    expect(await readsHit(cb, "KILL")).toBe(true);

    await redisProc.stop();
    const during = await Promise.all(
      Array.from({ length: 20 }, (_, i) => timed(() => cb.fetchWithStatus(["quote", `KILL${i % 4}`], quote, { lifetime: 60 }))),
    );
    for (const [i, { result, ms }] of during.entries()) {
      expect(result.value).toMatchObject({ symbol: `KILL${i % 4}` });
      expect(result).toMatchObject({ status: "miss", syncFetch: true });
      expect(ms).toBeLessThan(READ_BOUND_MS);
    }
    // One fetcher call per key, shared by the 5 concurrent readers of each key (single-flight).
    expect([0, 1, 2, 3].map((i) => calls.get(`KILL${i}`))).toEqual([1, 1, 1, 1]);
    await Promise.all(during.map((d) => d.result.background));
    expect(errorsOf(events, "read").length).toBeGreaterThan(0);
    expect(errorsOf(events, "write").length).toBeGreaterThan(0);

    await redisProc.start();
    // Nothing was persisted: the first reads after the restart are misses that write back, then hits.
    await eventually("reads to hit again after the restart", () => readsHit(cb, "KILL"), 15_000);
    expect(await cb.peek(["quote", "KILL"])).toMatchObject({ status: "hit", value: { symbol: "KILL" } });
    expect(unhandled.seen).toEqual([]);
  });

  it("the REST endpoint refuses connections: the official client retries for seconds, the read gives up after readTimeout (default 1 s) and serves the fetcher's value", async () => {
    const { cb, events } = viaProxy();
    await (await cb.fetchWithStatus(["quote", "REFUSED"], quote, { lifetime: 60 })).background; // the write-back has landed
    await proxy.stop();
    const reads = await Promise.all(Array.from({ length: 5 }, () => timed(() => cb.fetchWithStatus(["quote", "REFUSED"], quote, { lifetime: 60 }))));
    for (const { result, ms } of reads) {
      expect(result).toMatchObject({ status: "miss", syncFetch: true, value: { symbol: "REFUSED" } });
      // Without the bound the client's own retries alone take about 4.3 s.
      expect(ms).toBeLessThan(READ_BOUND_MS);
      expect(ms).toBeGreaterThanOrEqual(900);
    }
    const read = errorsOf(events, "read")[0];
    expect(read && "error" in read && (read.error as Error).name).toBe("CachebackTimeoutError");
    // The write-back gives up too (client retries, then the background timeout), without an unhandled rejection.
    await Promise.all(reads.map((r) => r.result.background));
    await proxy.start();
    await eventually("reads to hit again once the endpoint is back", () => readsHit(cb, "REFUSED"), 15_000);
    expect(unhandled.seen).toEqual([]);
  });

  it("slow Redis (a proxy adding 4 s to every exchange): reads return within the bound with the fetcher's value; a cached value is served again when it is fast", async () => {
    const { cb, events } = viaProxy();
    await (await cb.fetchWithStatus(["quote", "SLOW"], quote, { lifetime: 60 })).background; // the miss's write-back has landed
    expect(await readsHit(cb, "SLOW")).toBe(true);
    const before = calls.get("SLOW");

    proxy.delayMs = 4_000;
    const reads = await Promise.all(Array.from({ length: 10 }, () => timed(() => cb.fetchWithStatus(["quote", "SLOW"], quote, { lifetime: 60 }))));
    for (const { result, ms } of reads) {
      expect(result).toMatchObject({ status: "miss", syncFetch: true, value: { symbol: "SLOW" } });
      expect(ms).toBeLessThan(READ_BOUND_MS);
    }
    expect(calls.get("SLOW")).toBe((before ?? 0) + 1);
    expect(errorsOf(events, "read").length).toBe(10);

    proxy.delayMs = 0;
    proxy.cut(); // drop the slowed connections so the next requests use fresh ones
    await Promise.all(reads.map((r) => r.result.background));
    await eventually("a fresh hit once Redis is fast again", () => readsHit(cb, "SLOW"), 15_000);
    expect(unhandled.seen).toEqual([]);
  });

  it("Redis answering errors (OOM, noeviction): hits and stale values are still served, misses get the fetcher's value, writes report errors; writes resume when memory is freed", async () => {
    const { cb, events } = viaProxy();
    await (await cb.fetchWithStatus(["quote", "OOM-HIT"], quote, { lifetime: 60 })).background; // the write-back has landed
    await cb.set(["quote", "OOM-STALE"], { symbol: "OOM-STALE", n: 0 }, { lifetime: 0 });
    await redisProc.command("CONFIG", "SET", "maxmemory-policy", "noeviction");
    expect(await redisProc.command("CONFIG", "SET", "maxmemory", "1")).toContain("OK");

    const hit = await cb.fetchWithStatus(["quote", "OOM-HIT"], quote, { lifetime: 60 });
    expect(hit).toMatchObject({ status: "hit", value: { symbol: "OOM-HIT", n: 1 } });

    const stale = await cb.fetchWithStatus(["quote", "OOM-STALE"], quote, { lifetime: 60 });
    expect(stale).toMatchObject({ status: "stale", value: { symbol: "OOM-STALE", n: 0 } });
    await stale.background;
    // The lock (SET NX PX) is refused with OOM: nothing is queued, the error is reported, the stale value stays.
    const lockErrors = errorsOf(events, "lock");
    expect(lockErrors).toHaveLength(1);
    expect(String((lockErrors[0] as { error: unknown }).error)).toContain("OOM");
    expect(stack.messagesAbout('"args":["OOM-STALE"]')).toHaveLength(0);

    const miss = await cb.fetchWithStatus(["quote", "OOM-MISS"], quote, { lifetime: 60 });
    expect(miss).toMatchObject({ status: "miss", syncFetch: true, value: { symbol: "OOM-MISS", n: 1 } });
    await miss.background;
    expect(String((errorsOf(events, "write")[0] as { error: unknown }).error)).toContain("OOM");
    expect((await cb.peek(["quote", "OOM-MISS"])).status).toBe("miss");

    await redisProc.command("CONFIG", "SET", "maxmemory", "0");
    const again = await cb.fetchWithStatus(["quote", "OOM-MISS"], quote, { lifetime: 60 });
    await again.background;
    expect(await cb.peek(["quote", "OOM-MISS"])).toMatchObject({ status: "hit", value: { symbol: "OOM-MISS", n: 2 } });
    const staleAgain = await cb.fetchWithStatus(["quote", "OOM-STALE"], quote, { lifetime: 60 });
    await staleAgain.background;
    await eventually("the stale entry to be refreshed once writes work", async () => (await cb.peek(["quote", "OOM-STALE"])).status === "hit");
    expect((await cb.peek(["quote", "OOM-STALE"])).value).toEqual({ symbol: "OOM-STALE", n: 1 });
    expect(unhandled.seen).toEqual([]);
  });

  it("Redis restarted in the middle of a run of continuous reads: every read gets a value within the bound, and hits resume", async () => {
    const { cb } = viaProxy();
    const symbols = ["R0", "R1", "R2"];
    for (const s of symbols) await (await cb.fetchWithStatus(["quote", s], quote, { lifetime: 60 })).background; // the write-back has landed
    const outcomes: { symbol: string; ok: boolean; status: string; ms: number }[] = [];
    let running = true;
    const reader = async (worker: number) => {
      let i = worker;
      while (running) {
        const symbol = symbols[i++ % symbols.length] as string;
        const { result, ms } = await timed(() => cb.fetchWithStatus(["quote", symbol], quote, { lifetime: 60 }));
        outcomes.push({ symbol, ok: (result.value as { symbol: string }).symbol === symbol, status: result.status, ms });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const readers = [0, 1, 2, 3].map(reader);
    await eventually("some hits before the restart", async () => outcomes.filter((o) => o.status === "hit").length >= 20);
    await redisProc.stop();
    const stoppedAt = outcomes.length;
    await new Promise((resolve) => setTimeout(resolve, 700));
    await redisProc.start();
    const restartedAt = outcomes.length;
    await eventually("hits after the restart", async () => outcomes.slice(restartedAt).filter((o) => o.status === "hit").length >= 20, 15_000);
    running = false;
    await Promise.all(readers);

    expect(outcomes.length).toBeGreaterThan(60);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(READ_BOUND_MS);
    // While Redis was down the reads were misses served by the fetcher.
    expect(outcomes.slice(stoppedAt, restartedAt).some((o) => o.status === "miss")).toBe(true);
    expect(unhandled.seen).toEqual([]);
  });
});
