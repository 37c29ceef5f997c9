import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Redis } from "@upstash/redis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Cacheback } from "../../src/cacheback.js";
import type { CachebackConfig } from "../../src/config.js";
import { entryKeys } from "../../src/keys.js";
import { startFaultProxy, type FaultProxy } from "../helpers/fault-proxy.js";
import { closedPort, startRecordingReceiver, type RecordingReceiver } from "../helpers/recording-receiver.js";
import { watchUnhandledRejections, type UnhandledWatch } from "../helpers/unhandled.js";
import { eventually } from "../helpers/wait.js";
import { errorsOf, recordEvents, startStack, timed, type Stack } from "./fixture.js";
import { countingQuote } from "../helpers/counting-source.js";

// Faults on QStash: unreachable, answering 500, answering 429, hanging. A stub stands in for QStash's failure
// (it answers the official client as QStash would when failing); everything else is real. Stale values are
// still served at once, a lock whose holder died expires after the lock window, and no lock key is ever left
// without an expiry. These tests pin the behaviour of `queueFallback: false` (the refresh lock is released
// when the publish fails, so a later read queues again), with a back-off too short to matter; what the
// default does (refresh in process) is in qstash-outage.test.ts.
const WAIT_FOR_QUEUE: Partial<CachebackConfig> = { queueFallback: false, publishBackoff: { initial: 0.001, max: 0.001 } };

let stack: Stack;
let redis: Redis;
let stub: RecordingReceiver;
let hanging: Server;
let hangingUrl: string;
let qstashProxy: FaultProxy;
let unhandled: UnhandledWatch;
const { calls, quote } = countingQuote();

beforeAll(async () => {
  stack = await startStack({ label: "qstash-faults" });
  redis = stack.redisClient();
  stub = await startRecordingReceiver();
  stub.on("/500/v2/publish", () => ({ status: 500, headers: { "content-type": "application/json" }, body: '{"error":"internal server error"}' }));
  stub.on("/429/v2/publish", () => ({
    status: 429,
    headers: { "content-type": "application/json", "Burst-RateLimit-Limit": "100", "Burst-RateLimit-Remaining": "0", "Burst-RateLimit-Reset": "1" },
    body: '{"error":"too many requests"}',
  }));
  hanging = createServer(() => {
    // Never answers.
  });
  await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
  hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
  qstashProxy = await startFaultProxy(stack.qstash.port);
});

afterAll(async () => {
  await qstashProxy?.close();
  hanging?.closeAllConnections();
  await new Promise<void>((resolve) => (hanging ? hanging.close(() => resolve()) : resolve()));
  await stub?.close();
  await stack?.close();
});

beforeEach(() => {
  unhandled = watchUnhandledRejections();
});

afterEach(() => {
  unhandled.dispose();
});

/**
 * An instance publishing through `qstashBaseUrl`. Its client makes one attempt (no network retries) unless
 * `clientRetries` is "client-default" (5 retries with back-off, about 4.3 s in all).
 */
function instance(qstashBaseUrl: string, overrides: Partial<CachebackConfig> = {}, clientRetries: "none" | "client-default" = "none") {
  const cb = stack.instance({ qstash: stack.qstashClient(qstashBaseUrl, clientRetries === "none" ? false : undefined), ...WAIT_FOR_QUEUE, ...overrides });
  stack.route(cb.createRefreshHandler({ jobs: { quote } }));
  return { cb, events: recordEvents(cb) };
}

function lockKey(cb: Cacheback, symbol: string): string {
  return entryKeys(cb.prefix, "quote", [symbol]).lock;
}

/** Every lock key under the instance's prefix has an expiry (PTTL > 0); none is left locked forever. */
async function expectNoEternalLock(cb: Cacheback): Promise<void> {
  const locks = await redis.keys(`${cb.prefix}lock:*`);
  for (const key of locks) expect(await redis.pttl(key)).toBeGreaterThan(0);
}

async function staleRead(cb: Cacheback, symbol: string) {
  const { result, ms } = await timed(() => cb.fetchWithStatus(["quote", symbol], quote, { lifetime: 60, refreshTimeout: 30 }));
  expect(result).toMatchObject({ status: "stale", value: { symbol, n: 0 }, syncFetch: false, refreshScheduled: true });
  // The reader never waits on the publish.
  expect(ms).toBeLessThan(1_000);
  return result;
}

describe("QStash faults", () => {
  it.each([
    ["answering 500", "/500", "internal server error"],
    ["answering 429", "/429", "QstashRatelimitError"],
  ])("QStash %s: the stale value is served, the failure is reported, the lock is released and the next read queues again", async (_label, path, expected) => {
    const symbol = `Q${path.slice(1)}`;
    const { cb, events } = instance(`${stub.url}${path}`);
    await cb.set(["quote", symbol], { symbol, n: 0 }, { lifetime: 0 });
    const before = stub.requests(`${path}/v2/publish`).length;

    const first = await staleRead(cb, symbol);
    await first.background;
    expect(stub.requests(`${path}/v2/publish`)).toHaveLength(before + 1);
    const publishErrors = errorsOf(events, "publish");
    expect(publishErrors).toHaveLength(1);
    const error = (publishErrors[0] as { error: Error }).error;
    expect(`${error.name}: ${error.message}`).toContain(expected);
    expect(await redis.pttl(lockKey(cb, symbol))).toBe(-2); // released, not waiting out the window

    const second = await staleRead(cb, symbol);
    await second.background;
    expect(stub.requests(`${path}/v2/publish`)).toHaveLength(before + 2);
    expect(errorsOf(events, "publish")).toHaveLength(2);
    expect(calls.get(symbol)).toBeUndefined();
    expect((await cb.peek(["quote", symbol])).value).toEqual({ symbol, n: 0 });
    await expectNoEternalLock(cb);
    expect(unhandled.seen).toEqual([]);
  });

  it("QStash unreachable (connection refused, the client's default retries): stale values are served at once; once QStash is back a later read's refresh is delivered", async () => {
    // The client alone would retry for about 4.3 s; publishTimeout cuts the attempt at 1 s.
    const { cb, events } = instance(qstashProxy.url, { publishTimeout: 1 }, "client-default");
    await cb.set(["quote", "DOWN"], { symbol: "DOWN", n: 0 }, { lifetime: 0 });
    await qstashProxy.stop();
    const reads = await Promise.all(Array.from({ length: 20 }, () => staleRead(cb, "DOWN")));
    await Promise.all(reads.map((r) => r.background));
    // One reader won the lock and tried to publish (with the client's retries); the others left it to the winner.
    expect(errorsOf(events, "publish")).toHaveLength(1);
    expect(events.filter((e) => e.type === "refresh-queued")).toHaveLength(0);
    expect(await redis.pttl(lockKey(cb, "DOWN"))).toBe(-2);

    await qstashProxy.start();
    const later = await staleRead(cb, "DOWN");
    await later.background;
    expect(events.filter((e) => e.type === "refresh-queued")).toHaveLength(1);
    await eventually("the refreshed entry", async () => (await cb.peek(["quote", "DOWN"])).status === "hit");
    expect((await cb.peek(["quote", "DOWN"])).value).toEqual({ symbol: "DOWN", n: 1 });
    expect(stack.messagesAbout('"args":["DOWN"]')).toHaveLength(1);
    expect(calls.get("DOWN")).toBe(1);
    expect(unhandled.seen).toEqual([]);
  });

  it("QStash hangs: the publish is abandoned after publishTimeout, reported, and the lock released; meanwhile the lock has an expiry", async () => {
    const { cb, events } = instance(hangingUrl, { publishTimeout: 0.5 });
    await cb.set(["quote", "HANG"], { symbol: "HANG", n: 0 }, { lifetime: 0 });
    const read = await staleRead(cb, "HANG");
    await eventually("the lock to be taken", async () => (await redis.pttl(lockKey(cb, "HANG"))) > 0);
    const pttl = await redis.pttl(lockKey(cb, "HANG"));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(30_000);
    await read.background;
    const error = (errorsOf(events, "publish")[0] as { error: Error }).error;
    expect(error.name).toBe("CachebackTimeoutError");
    expect(await redis.pttl(lockKey(cb, "HANG"))).toBe(-2);
    expect(unhandled.seen).toEqual([]);
  });

  it("a lock whose holder died before publishing: reads within the lock window queue nothing; the first read after it queues the refresh, which is delivered", async () => {
    const { cb, events } = instance(stack.qstash.url);
    await cb.set(["quote", "ORPHAN"], { symbol: "ORPHAN", n: 0 }, { lifetime: 0 });
    // Another instance won the lock (refreshTimeout 1.5 s) and was frozen before it could publish.
    expect(await cb.store.acquireLock(lockKey(cb, "ORPHAN"), "token-of-a-frozen-instance", 1_500)).toBe(true);
    const pttl = await redis.pttl(lockKey(cb, "ORPHAN"));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1_500);

    const within = await Promise.all(
      Array.from({ length: 10 }, () => cb.fetchWithStatus(["quote", "ORPHAN"], quote, { lifetime: 60, refreshTimeout: 1.5 })),
    );
    await Promise.all(within.map((r) => r.background));
    expect(within.every((r) => r.status === "stale" && (r.value as { n: number }).n === 0)).toBe(true);
    expect(events.filter((e) => e.type === "refresh-queued")).toHaveLength(0);
    expect(stack.messagesAbout('"args":["ORPHAN"]')).toHaveLength(0);

    await eventually("the lock to expire", async () => (await redis.pttl(lockKey(cb, "ORPHAN"))) === -2, 5_000);
    const after = await cb.fetchWithStatus(["quote", "ORPHAN"], quote, { lifetime: 60, refreshTimeout: 1.5 });
    expect(after).toMatchObject({ status: "stale", value: { symbol: "ORPHAN", n: 0 } });
    await after.background;
    expect(events.filter((e) => e.type === "refresh-queued")).toHaveLength(1);
    await eventually("the refreshed entry", async () => (await cb.peek(["quote", "ORPHAN"])).status === "hit");
    expect((await cb.peek(["quote", "ORPHAN"])).value).toEqual({ symbol: "ORPHAN", n: 1 });
    expect(stack.messagesAbout('"args":["ORPHAN"]')).toHaveLength(1);
    expect(unhandled.seen).toEqual([]);
  });

  it("invalidate while QStash is unreachable: it throws a clear error, the entry is marked stale and the lock released, so a later read queues the refresh", async () => {
    const { cb, events } = instance(`http://127.0.0.1:${await closedPort()}`);
    await cb.set(["quote", "INVQ"], { symbol: "INVQ", n: 0 }, { lifetime: 60 });
    await expect(cb.invalidate(["quote", "INVQ"], { lifetime: 60 })).rejects.toThrow();
    expect(await cb.peek(["quote", "INVQ"])).toMatchObject({ status: "stale", value: { symbol: "INVQ", n: 0 } });
    expect(await redis.pttl(lockKey(cb, "INVQ"))).toBe(-2);
    const read = await cb.fetchWithStatus(["quote", "INVQ"], quote, { lifetime: 60 });
    expect(read).toMatchObject({ status: "stale", value: { symbol: "INVQ", n: 0 } });
    await read.background;
    expect(errorsOf(events, "publish")).toHaveLength(1);
    await expectNoEternalLock(cb);
    expect(unhandled.seen).toEqual([]);
  });
});
