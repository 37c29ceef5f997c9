import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cacheback } from "../../src/cacheback.js";
import { entryKeys } from "../../src/keys.js";
import { ensureBuilt, ROOT } from "../helpers/built-package.js";
import { eventually } from "../helpers/wait.js";
import { startStack, type Stack } from "./fixture.js";

// Races between instances and deliveries, through the official clients, the Redis REST server, the QStash
// server and a refresh route served over HTTP:
// - many instances (in this process and in child processes) reading one stale key at once: one refresh
//   per window, counted as QStash messages, deliveries and source calls;
// - the same QStash message delivered twice (one after the other, and both at once);
// - two different messages for one key at once (a stale read's and an invalidate's).

const run = promisify(execFile);

let stack: Stack;
let redis: Redis;
let cb: Cacheback;
const sourceCalls = new Map<string, number>();
/** Deliveries the route has seen, by symbol: the raw request (to replay it) and a hold the test may open. */
const seen = new Map<string, { signature: string; body: string }[]>();
const holds = new Map<string, { until: number; open: () => void; opened: Promise<void> }>();

const quote = async (symbol: string) => {
  const n = (sourceCalls.get(symbol) ?? 0) + 1;
  sourceCalls.set(symbol, n);
  return { symbol, from: "refresh", n };
};

/** Makes the route hold deliveries about `symbol` until `count` of them have arrived, then let them all run at once. */
function holdUntil(symbol: string, count: number): void {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  holds.set(symbol, { until: count, open, opened });
}

beforeAll(async () => {
  ensureBuilt();
  stack = await startStack({ label: "races" });
  redis = stack.redisClient();
  cb = stack.instance();
  const handler = cb.createRefreshHandler({ jobs: { quote } });
  stack.route(async (request) => {
    const body = await request.text();
    const symbol = (JSON.parse(body) as { args: string[] }).args[0] as string;
    const list = seen.get(symbol) ?? [];
    list.push({ signature: request.headers.get("upstash-signature") ?? "", body });
    seen.set(symbol, list);
    const hold = holds.get(symbol);
    if (hold) {
      if (list.length >= hold.until) hold.open();
      await hold.opened;
    }
    return handler(new Request(request.url, { method: "POST", headers: request.headers, body }));
  });
}, 120_000);

afterAll(async () => {
  for (const hold of holds.values()) hold.open();
  await stack?.close();
});

async function replay(symbol: string, index = 0): Promise<{ status: number; body: Record<string, unknown> }> {
  const original = seen.get(symbol)?.[index];
  if (!original) throw new Error(`no delivery about ${symbol} to replay`);
  const res = await fetch(stack.refreshUrl, {
    method: "POST",
    headers: { "content-type": "application/json", "upstash-signature": original.signature },
    body: original.body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("many instances reading one stale key at once", () => {
  it("8 instances here x 50 reads + 2 processes x 200 reads, in 3 refresh windows: exactly one message, one delivery and one source call per window", async () => {
    const symbol = "STAMPEDE";
    const instances = Array.from({ length: 8 }, () => stack.instance({ prefix: cb.prefix }));
    const env = { PATH: process.env.PATH, ...stack.appEnv(), CACHEBACK_REFRESH_URL: stack.refreshUrl, CACHEBACK_PREFIX: cb.prefix, READ_KEY: symbol, READERS: "200" };
    for (let window = 1; window <= 3; window++) {
      await cb.set(["quote", symbol], { symbol, from: "seed", n: 0 }, { lifetime: 0 });
      const children = [1, 2].map(() => run(process.execPath, ["test/fixtures/stale-reader.mjs"], { cwd: ROOT, env, timeout: 60_000 }));
      const reads = await Promise.all(
        instances.flatMap((instance) =>
          Array.from({ length: 50 }, () => instance.fetchWithStatus(["quote", symbol], quote, { lifetime: 60, refreshTimeout: 30 })),
        ),
      );
      const outputs = await Promise.all(children);
      await Promise.all(reads.map((r) => r.background));
      for (const r of reads) expect(["stale", "hit"]).toContain(r.status);
      for (const out of outputs) {
        const { statuses } = JSON.parse(out.stdout.trim().split("\n").at(-1) as string) as { statuses: Record<string, number> };
        expect((statuses.stale ?? 0) + (statuses.hit ?? 0)).toBe(200);
      }
      await eventually(`window ${window}: the refreshed entry`, async () => (await cb.peek(["quote", symbol])).status === "hit");
      await stack.qstash.engine.idle();
      const messages = stack.messagesAbout(`"args":["${symbol}"]`);
      expect(messages).toHaveLength(window);
      expect(messages.every((m) => m.state === "DELIVERED" && m.attempts.length === 1 && m.attempts[0]!.status === 200)).toBe(true);
      expect(sourceCalls.get(symbol)).toBe(window);
      expect((await cb.peek(["quote", symbol])).value).toEqual({ symbol, from: "refresh", n: window });
    }
  }, 60_000);
});

describe("the same message delivered twice", () => {
  it("one after the other: the second delivery finds the entry refreshed and runs nothing", async () => {
    const symbol = "TWICE";
    await cb.set(["quote", symbol], { symbol, from: "seed", n: 0 }, { lifetime: 0 });
    await (await cb.fetchWithStatus(["quote", symbol], quote, { lifetime: 60 })).background;
    await eventually("the first delivery", async () => (await cb.peek(["quote", symbol])).status === "hit");
    const first = await cb.peek(["quote", symbol]);
    expect(first.value).toEqual({ symbol, from: "refresh", n: 1 });

    const again = await Promise.all([replay(symbol), replay(symbol), replay(symbol)]);
    for (const r of again) expect(r).toMatchObject({ status: 200, body: { ok: true, status: "skipped-fresh" } });
    expect(sourceCalls.get(symbol)).toBe(1);
    expect(await cb.peek(["quote", symbol])).toMatchObject({ value: first.value, writtenAt: first.writtenAt });
  });

  it("both at once: each runs at most once (at-least-once delivery), the entry ends fresh with one of their values, the lock is released", async () => {
    const symbol = "TWICE-AT-ONCE";
    await cb.set(["quote", symbol], { symbol, from: "seed", n: 0 }, { lifetime: 0 });
    holdUntil(symbol, 2);
    await (await cb.fetchWithStatus(["quote", symbol], quote, { lifetime: 60 })).background;
    await eventually("the first delivery to arrive", async () => (seen.get(symbol)?.length ?? 0) === 1);
    const [duplicate] = await Promise.all([replay(symbol, 0)]);
    expect(duplicate.status).toBe(200);
    await eventually("the original delivery to finish", async () => stack.messagesAbout(`"args":["${symbol}"]`)[0]?.state === "DELIVERED");
    const calls = sourceCalls.get(symbol) ?? 0;
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(2);
    const final = await cb.peek<{ n: number }>(["quote", symbol]);
    expect(final.status).toBe("hit");
    expect([1, 2].slice(0, calls)).toContain(final.value?.n);
    expect(await redis.pttl(entryKeys(cb.prefix, "quote", [symbol]).lock)).toBe(-2);
  });
});

describe("two different messages for one key at once", () => {
  it("a stale read's refresh and an invalidate's refresh delivered together: at most two source calls, the entry ends fresh, no lock left", async () => {
    const symbol = "TWO";
    await cb.set(["quote", symbol], { symbol, from: "seed", n: 0 }, { lifetime: 0 });
    holdUntil(symbol, 2);
    await (await cb.fetchWithStatus(["quote", symbol], quote, { lifetime: 60 })).background;
    const { messageId } = await cb.invalidate(["quote", symbol], { lifetime: 60 });
    expect(messageId).toBeTruthy();
    await eventually("both deliveries to finish", async () => {
      const ms = stack.messagesAbout(`"args":["${symbol}"]`);
      return ms.length === 2 && ms.every((m) => m.state === "DELIVERED");
    });
    const messages = stack.messagesAbout(`"args":["${symbol}"]`);
    expect(new Set(messages.map((m) => JSON.parse(m.body ?? "{}").lock)).size).toBe(2);
    expect(messages.map((m) => m.attempts.map((a) => a.status))).toEqual([[200], [200]]);
    const calls = sourceCalls.get(symbol) ?? 0;
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(2);
    const final = await cb.peek<{ n: number; from: string }>(["quote", symbol]);
    expect(final.status).toBe("hit");
    expect(final.value?.from).toBe("refresh");
    expect(await redis.pttl(entryKeys(cb.prefix, "quote", [symbol]).lock)).toBe(-2);
  });
});
