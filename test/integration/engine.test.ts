import { Client } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cacheback } from "../../src/cacheback.js";
import { startDevServers, type DevServers } from "../../packages/dev/src/index.js";
import type { CachebackEvent } from "../../src/events.js";
import { UpstashStore } from "../../src/stores/upstash.js";
import { closedPort } from "../helpers/recording-receiver.js";
import { serveFetch, type ServedHandler } from "../helpers/serve-fetch.js";
import { runStoreSuite } from "../../src/testing.js";
import { eventually, randomPrefix } from "../helpers/wait.js";

let servers: DevServers;
let app: ServedHandler;
let redis: Redis;
let cb: Cacheback;
const calls: Record<string, number> = {};
let slowGate: Promise<void> | undefined;

const jobs = {
  // The "source": counts calls, returns a new version each time.
  quote: async (symbol: string) => {
    calls[symbol] = (calls[symbol] ?? 0) + 1;
    if (slowGate) await slowGate;
    return { symbol, version: calls[symbol] };
  },
};

function makeInstance(overrides: Partial<ConstructorParameters<typeof Cacheback>[0]> = {}): Cacheback {
  return new Cacheback({
    redis,
    qstash: new Client({ baseUrl: servers.qstash.url, token: servers.qstash.token }),
    refreshUrl: `${app.origin}/api/cacheback`,
    signingKeys: { current: servers.qstash.currentSigningKey, next: servers.qstash.nextSigningKey },
    prefix: randomPrefix("engine"),
    ...overrides,
  });
}

beforeAll(async () => {
  servers = await startDevServers({ redis: { port: 0 }, qstash: { port: 0, retryDelayScale: 0.001 } });
  redis = new Redis({ url: servers.redis.url, token: servers.redis.token });
  let handler: (r: Request) => Promise<Response> = async () => new Response("not ready", { status: 503 });
  app = await serveFetch({ "/api/cacheback": (r) => handler(r) });
  cb = makeInstance();
  handler = cb.createRefreshHandler({ jobs });
});

afterAll(async () => {
  await app?.close();
  await servers?.close();
});

runStoreSuite("UpstashStore via @upstash/redis and the dev REST server", () => ({
  store: new UpstashStore(redis),
  prefix: randomPrefix("store"),
  advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}));

function deliveriesTo(key: string) {
  return servers.qstash.engine.messages().filter((m) => m.body?.includes(`"args":["${key}"]`));
}

describe("cacheback over the official clients and the dev servers", () => {
  it("a stale read returns the old value; QStash delivers one signed message; the entry is then fresh with the new value", async () => {
    await cb.set(["quote", "STALE"], { symbol: "STALE", version: 0 }, { lifetime: 0 });
    const read = await cb.fetchWithStatus(["quote", "STALE"], jobs.quote, { lifetime: 60 });
    expect(read).toMatchObject({ value: { symbol: "STALE", version: 0 }, status: "stale", syncFetch: false });
    await read.background;
    const [message] = await eventually("the delivery", async () => {
      const ms = deliveriesTo("STALE");
      return ms.length > 0 && ms[0]!.state === "DELIVERED" ? ms : undefined;
    });
    expect(deliveriesTo("STALE")).toHaveLength(1);
    expect(message!.attempts).toHaveLength(1);
    expect(message!.attempts[0]!.status).toBe(200);
    expect(app.answers.some((a) => a.status === 200 && a.body.includes('"status":"written"'))).toBe(true);
    const after = await cb.fetchWithStatus(["quote", "STALE"], jobs.quote, { lifetime: 60 });
    expect(after).toMatchObject({ value: { symbol: "STALE", version: 1 }, status: "hit" });
    expect(calls.STALE).toBe(1);
  });

  it("a fresh hit is one Redis command in one round trip", async () => {
    await (await cb.fetchWithStatus(["quote", "HIT"], jobs.quote, { lifetime: 60 })).background; // the write-back has landed
    await eventually("the write-back", async () => (await cb.peek(["quote", "HIT"])).status === "hit");
    servers.redis.resetStats();
    const v = await cb.fetch(["quote", "HIT"], jobs.quote, { lifetime: 60 });
    expect(v).toEqual({ symbol: "HIT", version: 1 });
    expect(servers.redis.stats()).toMatchObject({ requests: 1, commands: 1 });
  });

  it("the refresh route rejects unsigned, tampered and unknown-job requests over HTTP", async () => {
    const url = `${app.origin}/api/cacheback`;
    const body = JSON.stringify({ v: 1, job: "quote", args: ["X"], lock: "l", queuedAt: Date.now(), options: { lifetime: 1, ttl: 10, refreshTimeout: 5 } });
    expect((await fetch(url, { method: "POST", body })).status).toBe(401);
    const { signQStashMessage } = await import("../../src/qstash/signing.js");
    const signature = await signQStashMessage({ signingKey: servers.qstash.currentSigningKey, url, body });
    expect((await fetch(url, { method: "POST", body: body.replace('"X"', '"Y"'), headers: { "upstash-signature": signature } })).status).toBe(401);
    const unknown = body.replace('"quote"', '"posts"');
    const res = await fetch(url, {
      method: "POST",
      body: unknown,
      headers: { "upstash-signature": await signQStashMessage({ signingKey: servers.qstash.currentSigningKey, url, body: unknown }) },
    });
    expect(res.status).toBe(489);
    expect(res.headers.get("upstash-nonretryable-error")).toBe("true");
    expect(calls.X).toBeUndefined();
    expect(calls.Y).toBeUndefined();
  });

  it("a refresh that started before a newer set does not overwrite it", async () => {
    await cb.set(["quote", "RACE"], { symbol: "RACE", version: -1 }, { lifetime: 0 });
    let open!: () => void;
    slowGate = new Promise<void>((resolve) => (open = resolve));
    try {
      await (await cb.fetchWithStatus(["quote", "RACE"], jobs.quote, { lifetime: 60 })).background;
      await eventually("the refresh to start", async () => calls.RACE === 1);
      await new Promise((r) => setTimeout(r, 5)); // the clock must move past the refresh's start
      await cb.set(["quote", "RACE"], { symbol: "RACE", version: 99 }, { lifetime: 60 });
      open();
      await eventually("the refresh to answer", async () => app.answers.find((a) => a.body.includes("RACE")));
      expect(app.answers.find((a) => a.body.includes("RACE"))!.body).toContain('"status":"skipped-newer"');
      expect((await cb.peek(["quote", "RACE"])).value).toEqual({ symbol: "RACE", version: 99 });
    } finally {
      slowGate = undefined;
      open?.();
    }
  });

  it("Redis unreachable: reads fall back to the fetcher and report an error event", async () => {
    const port = await closedPort();
    const dead = new Cacheback({
      redis: new Redis({ url: `http://127.0.0.1:${port}`, token: "x" }),
      queue: { name: "none", publish: async () => ({ messageId: "m" }) },
      refreshUrl: "http://127.0.0.1:1/x",
      readTimeout: 0.3,
    });
    const events: CachebackEvent[] = [];
    dead.on("error", (e) => events.push(e));
    const r = await dead.fetchWithStatus(["quote", "DOWN"], jobs.quote);
    expect(r).toMatchObject({ value: { symbol: "DOWN" }, status: "miss", syncFetch: true });
    expect(events.some((e) => e.type === "error" && e.operation === "read")).toBe(true);
  });

  it("a REST server whose Redis is down answers 500; reads still get the fetcher's value", async () => {
    const { startRedisRestServer } = await import("../../packages/dev/src/index.js");
    const rest = await startRedisRestServer({ port: 0, redisUrl: `redis://127.0.0.1:${await closedPort()}` });
    try {
      const broken = new Cacheback({ redis: new Redis({ url: rest.url, token: rest.token }), readTimeout: 2 });
      const errors: unknown[] = [];
      broken.on("error", (e) => errors.push(e.error));
      expect(await broken.fetch(["quote", "REDIS500"], jobs.quote)).toEqual({ symbol: "REDIS500", version: 1 });
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await rest.close();
    }
  });

  it("QStash unreachable, queueFallback off: the stale value is still served, and the lock is released so a later read queues again", async () => {
    const port = await closedPort();
    const noQueue = makeInstance({
      qstash: new Client({ baseUrl: `http://127.0.0.1:${port}`, token: "x", retry: false }),
      queueFallback: false,
      publishBackoff: { initial: 0.001, max: 0.001 },
    });
    const errors: CachebackEvent[] = [];
    noQueue.on("error", (e) => errors.push(e));
    await noQueue.set(["quote", "NOQ"], "old", { lifetime: 0 });
    const r = await noQueue.fetchWithStatus(["quote", "NOQ"], jobs.quote);
    expect(r).toMatchObject({ value: "old", status: "stale" });
    await r.background;
    expect(errors.some((e) => e.type === "error" && e.operation === "publish")).toBe(true);
    const again = await noQueue.fetchWithStatus(["quote", "NOQ"], jobs.quote);
    await again.background;
    expect(errors.filter((e) => e.type === "error" && e.operation === "publish")).toHaveLength(2);
  });

  it("QStash unreachable (the default): the instance holding the lock refreshes in process; the entry is fresh", async () => {
    const port = await closedPort();
    const noQueue = makeInstance({ qstash: new Client({ baseUrl: `http://127.0.0.1:${port}`, token: "x", retry: false }) });
    const events: CachebackEvent[] = [];
    noQueue.on("*", (e) => events.push(e));
    await noQueue.set(["quote", "NOQ2"], "old", { lifetime: 0 });
    const r = await noQueue.fetchWithStatus(["quote", "NOQ2"], jobs.quote, { lifetime: 60 });
    expect(r).toMatchObject({ value: "old", status: "stale" });
    await r.background;
    expect(events.find((e) => e.type === "refresh-fallback")).toMatchObject({ reason: "publish-failed" });
    expect(await noQueue.fetchWithStatus(["quote", "NOQ2"], jobs.quote, { lifetime: 60 })).toMatchObject({ status: "hit", value: { symbol: "NOQ2", version: 1 } });
  });

  it("invalidate queues a refresh that is delivered and makes the entry fresh with a new value", async () => {
    await (await cb.fetchWithStatus(["quote", "INV"], jobs.quote, { lifetime: 60 })).background; // the write-back has landed
    expect(calls.INV).toBe(1);
    const { marked } = await cb.invalidate(["quote", "INV"], { lifetime: 60 });
    expect(marked).toBe(true);
    expect((await cb.peek(["quote", "INV"])).status).toBe("stale");
    await eventually("the refreshed entry", async () => (await cb.peek(["quote", "INV"])).status === "hit");
    expect((await cb.peek(["quote", "INV"])).value).toEqual({ symbol: "INV", version: 2 });
  });
});
