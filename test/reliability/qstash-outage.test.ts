import type { Redis } from "@upstash/redis";
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from "vitest";
import type { Cacheback } from "../../src/cacheback.js";
import type { CachebackEvent } from "../../src/events.js";
import { countingQuote } from "../helpers/counting-source.js";
import { startFaultProxy, type FaultProxy } from "../helpers/fault-proxy.js";
import { startRecordingReceiver, type RecordingReceiver } from "../helpers/recording-receiver.js";
import { watchUnhandledRejections, type UnhandledWatch } from "../helpers/unhandled.js";
import { eventually } from "../helpers/wait.js";
import { recordEvents, startStack, type Stack } from "./fixture.js";

// The default when QStash fails: the instance that holds the refresh lock refreshes in process, under the
// same lock and compare-and-set, so entries keep being refreshed through an outage (once per lock window),
// and publishing resumes by itself when QStash answers again.

let stack: Stack;
let redis: Redis;
let proxy: FaultProxy;
let stub: RecordingReceiver;
let unhandled: UnhandledWatch;
const counting = countingQuote();
const { calls } = counting;
/** When the source ran, per symbol (ms): two refreshes of one entry in one stale period would come closer than its lifetime. */
const ranAt = new Map<string, number[]>();
const quote = (symbol: string) => {
  ranAt.set(symbol, [...(ranAt.get(symbol) ?? []), Date.now()]);
  return counting.quote(symbol);
};

/** The shortest time between two runs of the source for `symbol`, ms (Infinity with fewer than two). */
function shortestGap(symbol: string): number {
  const times = ranAt.get(symbol) ?? [];
  let gap = Infinity;
  for (let i = 1; i < times.length; i++) gap = Math.min(gap, times[i]! - times[i - 1]!);
  return gap;
}

beforeAll(async () => {
  stack = await startStack({ label: "qstash-outage" });
  redis = stack.redisClient();
  proxy = await startFaultProxy(stack.qstash.port);
  stub = await startRecordingReceiver();
  // QStash past the free plan's daily quota: 429 with the daily limit headers (the client throws QstashDailyRatelimitError).
  stub.on("/quota/v2/publish", () => ({
    status: 429,
    headers: { "content-type": "application/json", "RateLimit-Limit": "1000", "RateLimit-Remaining": "0", "RateLimit-Reset": String(Date.now() + 3_600_000) },
    body: '{"error":"daily message limit reached"}',
  }));
});

afterAll(async () => {
  await stub?.close();
  await proxy?.close();
  await stack?.close();
});

beforeEach(() => {
  unhandled = watchUnhandledRejections();
});
afterEach(() => {
  unhandled.dispose();
});

function instances(baseUrl: string, n: number): { cbs: Cacheback[]; events: CachebackEvent[][] } {
  const first = stack.instance({ qstash: stack.qstashClient(baseUrl, false), publishBackoff: { initial: 0.2, max: 0.5 } });
  const cbs = [first, ...Array.from({ length: n - 1 }, () => stack.instance({ prefix: first.prefix, qstash: stack.qstashClient(baseUrl, false), publishBackoff: { initial: 0.2, max: 0.5 } }))];
  stack.route(first.createRefreshHandler({ jobs: { quote } }));
  return { cbs, events: cbs.map(recordEvents) };
}

/** Reads `symbols` from every instance every `everyMs` for `forMs`; returns the oldest age served past the lifetime. */
async function readFor(cbs: Cacheback[], symbols: string[], lifetime: number, forMs: number, everyMs = 50): Promise<number> {
  const end = Date.now() + forMs;
  let oldest = 0;
  while (Date.now() < end) {
    const reads = await Promise.all(cbs.flatMap((cb) => symbols.map((s) => cb.fetchWithStatus(["quote", s], quote, { lifetime, refreshTimeout: 1 }))));
    for (const r of reads) if (r.age !== null) oldest = Math.max(oldest, r.age - lifetime);
    await Promise.all(reads.map((r) => r.background));
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return oldest;
}

describe("QStash outage, with the default queueFallback", () => {
  it("QStash down for longer than a lifetime: entries are still refreshed, once per stale period, then publishing resumes", async () => {
    const { cbs, events } = instances(proxy.url, 2);
    const symbols = ["OUT1", "OUT2", "OUT3"];
    for (const s of symbols) await cbs[0]!.set(["quote", s], { symbol: s, n: 0 }, { lifetime: 0.3 });
    await proxy.stop();
    // 3 s of reads from two instances, entries living 0.3 s: many lifetimes.
    const oldest = await readFor(cbs, symbols, 0.3, 3_000);
    for (const s of symbols) {
      expect(calls.get(s) ?? 0, s).toBeGreaterThanOrEqual(3); // refreshed all through the outage
      // Once per stale period: after a refresh the entry is fresh for its lifetime, so no second refresh comes sooner.
      expect(shortestGap(s), s).toBeGreaterThanOrEqual(280);
    }
    // The value served was never much older than its lifetime (without the fallback: the whole outage).
    expect(oldest).toBeLessThan(1);
    const all = events.flat();
    expect(all.filter((e) => e.type === "refresh-fallback").length).toBeGreaterThan(0);
    expect(all.filter((e) => e.type === "refresh-queued")).toHaveLength(0);

    await proxy.start();
    // After the back-off (at most 0.5 s), a stale read publishes again and QStash delivers it.
    await eventually(
      "a refresh published through QStash again",
      async () => {
        await readFor(cbs, symbols, 0.3, 200);
        return all.concat(events.flat()).some((e) => e.type === "refresh-queued");
      },
      10_000,
    );
    await eventually("the delivery", async () => stack.messagesAbout('"args":["OUT').some((m) => m.state === "DELIVERED"));
    expect(await redis.keys(`${cbs[0]!.prefix}lock:*`).then((keys) => Promise.all(keys.map((k) => redis.pttl(k))))).not.toContain(-1);
    expect(unhandled.seen).toEqual([]);
  }, 30_000);

  it("QStash answering 429 with the daily-quota error: the same, refreshed in process once per window", async () => {
    const { cbs, events } = instances(`${stub.url}/quota`, 2);
    await cbs[0]!.set(["quote", "QUOTA"], { symbol: "QUOTA", n: 0 }, { lifetime: 0.3 });
    await readFor(cbs, ["QUOTA"], 0.3, 1_500);
    expect(calls.get("QUOTA") ?? 0).toBeGreaterThanOrEqual(2);
    expect(shortestGap("QUOTA")).toBeGreaterThanOrEqual(280);
    const fallbacks = events.flat().filter((e) => e.type === "refresh-fallback");
    expect(fallbacks.length).toBeGreaterThan(0);
    const publishFailure = fallbacks.find((e) => e.type === "refresh-fallback" && e.reason === "publish-failed");
    expect((publishFailure as { error: Error }).error.name).toBe("QstashDailyRatelimitError");
    // Back-off: far fewer publish attempts than stale reads.
    expect(stub.requests("/quota/v2/publish").length).toBeLessThanOrEqual(8);
    expect((await cbs[0]!.peek(["quote", "QUOTA"])).value).toMatchObject({ symbol: "QUOTA" });
    expect(unhandled.seen).toEqual([]);
  }, 30_000);
});
