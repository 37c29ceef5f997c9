import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCacheHandler } from "../../src/cache-handler/handler.js";
import { handlerKeys } from "../../src/cache-handler/keys.js";
import type { CacheHandler, CacheHandlerEvent } from "../../src/cache-handler/types.js";
import { UpstashHandlerStore } from "../../src/cache-handler/upstash-store.js";
import { Cacheback } from "../../src/cacheback.js";
import { startDevServers, type DevServers } from "../../packages/dev/src/index.js";
import { startFaultProxy, type FaultProxy } from "../helpers/fault-proxy.js";
import { BINARY, bytesOf, entryOf, nextSees } from "../helpers/handler-harness.js";
import { runHandlerStoreSuite } from "../helpers/handler-store-suite.js";
import { watchUnhandledRejections } from "../helpers/unhandled.js";
import { randomPrefix } from "../helpers/wait.js";

// The cache handler through the official @upstash/redis client against the dev REST server on the real
// redis-server: the Lua scripts agree with the memory store, each operation is one request and one
// command at the server, bytes survive the REST API, and two instances regenerate a stale entry once.

let servers: DevServers;
let redis: Redis;
let proxy: FaultProxy;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const nextNow = () => performance.timeOrigin + performance.now();

beforeAll(async () => {
  servers = await startDevServers({ redis: { port: 0 }, qstash: { port: 0, retryDelayScale: 0.001 } });
  redis = new Redis({ url: servers.redis.url, token: servers.redis.token });
  proxy = await startFaultProxy(servers.redis.port);
});

afterAll(async () => {
  await proxy?.close();
  await servers?.close();
});

runHandlerStoreSuite("UpstashHandlerStore via @upstash/redis and the dev REST server", () => ({
  store: new UpstashHandlerStore(redis),
  prefix: randomPrefix("hstore"),
  advance: sleep,
  writeRaw: async (key, value) => void (await redis.set(key, value)),
}));

/** A handler on its own client (as another process would have), recording events. */
function instance(prefix: string, extra: Parameters<typeof createCacheHandler>[0] = {}) {
  const events: CacheHandlerEvent[] = [];
  const handler = createCacheHandler({ redis: new Redis({ url: servers.redis.url, token: servers.redis.token }), prefix, onEvent: (e) => events.push(e), ...extra });
  return { handler, events };
}

async function warm(handler: CacheHandler): Promise<void> {
  // The first call of each script on a server is EVALSHA, then EVAL: load them once.
  await handler.set("warm", Promise.resolve(entryOf(BINARY, { timestamp: nextNow() })));
  await handler.get("warm", []);
  await handler.updateTags(["warm"]);
}

describe("cache handler over Upstash's REST API, counted at the server", () => {
  it("get (miss, hit with 8 tags and 4 soft tags, stale with the lock), set and updateTags are one request and one command each", async () => {
    const prefix = randomPrefix("handler");
    const { handler } = instance(prefix);
    await warm(handler);
    const tags = Array.from({ length: 8 }, (_, i) => `t${i}`);
    const soft = ["_N_T_/layout", "_N_T_/posts/layout", "_N_T_/posts/page", "_N_T_/posts"];
    await handler.updateTags([...tags, ...soft], { expire: 60 }); // stamps exist, older than the entries below

    const counted = async (what: string, run: () => Promise<unknown>) => {
      servers.redis.resetStats();
      await run();
      expect(servers.redis.stats(), what).toMatchObject({ requests: 1, commands: 1 });
    };
    await counted("get, miss", () => handler.get("k", soft));
    await counted("set", () => handler.set("k", Promise.resolve(entryOf(BINARY, { timestamp: nextNow(), tags }))));
    await counted("get, hit", async () => expect(nextSees(await handler.get("k", soft), nextNow())).toBe("serve"));
    await handler.set("old", Promise.resolve(entryOf(BINARY, { timestamp: nextNow() - 61_000, tags })));
    await counted("get, stale, lock won", async () => expect(nextSees(await handler.get("old", soft), nextNow())).toBe("serve-and-regenerate"));
    await counted("get, stale, lock held", async () => expect(nextSees(await handler.get("old", soft), nextNow())).toBe("serve"));
    await counted("updateTags, 3 tags", () => handler.updateTags(["a", "b", "c"], { expire: 31_536_000 }));
    await counted("updateTags, no durations", () => handler.updateTags(["a"]));
  });

  it("bytes survive the REST API: not valid UTF-8, 1 MiB of every byte value, and 7 MiB, the largest entry by default", async () => {
    const prefix = randomPrefix("handler-bytes");
    // What is tested is the bytes, not the time: 7 MiB through the REST API can take longer than the default
    // read timeout on a loaded machine, and a get that times out answers a miss.
    const { handler, events } = instance(prefix, { readTimeout: 60, writeTimeout: 60 });
    await handler.set("small", Promise.resolve(entryOf(BINARY, { timestamp: nextNow() })));
    expect(await bytesOf(await handler.get("small", []))).toEqual(BINARY);
    const asEntry = (bytes: Uint8Array<ArrayBuffer>) => ({ ...entryOf([], { timestamp: nextNow(), tags: ["t1", "t2"] }), value: new Blob([bytes]).stream() });
    const readBack = async (key: string) => Buffer.from(await new Response((await handler.get(key, []))!.value).arrayBuffer());
    const mib = new Uint8Array(1 << 20);
    for (let i = 0; i < mib.length; i += 65_536) crypto.getRandomValues(mib.subarray(i, i + 65_536));
    await handler.set("mib", Promise.resolve(asEntry(mib)));
    expect((await readBack("mib")).equals(mib)).toBe(true);

    const big = new Uint8Array(7 * 1024 * 1024).map((_, i) => (i * 31) & 0xff);
    await handler.set("big", Promise.resolve(asEntry(big)));
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    expect((await readBack("big")).equals(big)).toBe(true);

    const tooBig = new Uint8Array(7 * 1024 * 1024 + 1);
    const logged: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args[0]);
    try {
      await handler.set("too-big", Promise.resolve(asEntry(tooBig)));
    } finally {
      console.error = original;
    }
    expect(events.at(-1)).toMatchObject({ type: "set-skipped", key: "too-big", reason: "too-large" });
    expect(String(logged[0])).toMatch(/more than maxEntrySize \(7340032 bytes\)/);
    expect(await handler.get("too-big", [])).toBeUndefined();
  }, 30_000);

  it("two instances read an entry past revalidate at once: exactly one is told to regenerate, and its set frees the lock", async () => {
    const prefix = randomPrefix("handler-two");
    const a = instance(prefix);
    const b = instance(prefix);
    const keys = Array.from({ length: 10 }, (_, i) => `page-${i}`);
    for (const key of keys) await a.handler.set(key, Promise.resolve(entryOf(BINARY, { timestamp: nextNow() - 61_000, revalidate: 60, expire: 3600 })));
    for (const key of keys) {
      const [fromA, fromB] = await Promise.all([a.handler.get(key, []), b.handler.get(key, [])]);
      const now = nextNow();
      const seen = [nextSees(fromA, now), nextSees(fromB, now)].sort();
      expect(seen, key).toEqual(["serve", "serve-and-regenerate"]);
      expect(await bytesOf(fromA)).toEqual(BINARY);
      expect(await bytesOf(fromB)).toEqual(BINARY);
      expect(await redis.exists(handlerKeys(prefix, key).lock)).toBe(1);
      // The winner regenerates and sets: the lock is gone and both read a fresh entry.
      const winner = nextSees(fromA, now) === "serve-and-regenerate" ? a : b;
      await winner.handler.set(key, Promise.resolve(entryOf([1, 2, 3], { timestamp: nextNow(), revalidate: 60, expire: 3600 })));
      expect(await redis.exists(handlerKeys(prefix, key).lock)).toBe(0);
      expect(nextSees(await a.handler.get(key, []), nextNow())).toBe("serve");
      expect(await bytesOf(await b.handler.get(key, []))).toEqual([1, 2, 3]);
    }
    const regenerations = [...a.events, ...b.events].filter((e) => e.type === "stale" && e.regenerate).length;
    expect(regenerations).toBe(keys.length);
  });

  it("one tag namespace with next-cacheback over Redis, in both directions", async () => {
    const prefix = randomPrefix("handler-tags");
    const { handler } = instance(prefix);
    const cb = new Cacheback({ redis, prefix, nextCache: false });
    await cb.set(["post", 1], { id: 1 }, { lifetime: 600, tags: ["posts"] });
    await handler.set("page", Promise.resolve(entryOf(BINARY, { timestamp: nextNow(), tags: ["posts"] })));

    await cb.revalidateTag("posts");
    expect(nextSees(await handler.get("page", []), nextNow())).toBe("serve-and-regenerate");
    await handler.set("page", Promise.resolve(entryOf(BINARY, { timestamp: nextNow(), tags: ["posts"] })));
    await cb.set(["post", 1], { id: 1 }, { lifetime: 600, tags: ["posts"] });
    expect((await cb.peek(["post", 1])).status).toBe("hit");

    await handler.updateTags(["posts"], { expire: 31_536_000 }); // Next.js's revalidateTag("posts", "max")
    expect(await cb.peek(["post", 1])).toMatchObject({ status: "stale" });
    expect(nextSees(await handler.get("page", []), nextNow())).toBe("serve-and-regenerate");
    await handler.updateTags(["posts"]); // updateTag("posts")
    expect(await handler.get("page", [])).toBeUndefined();
  });

  it("the read script's texts come through a client that decodes JSON answers and one that does not, odd tags included", async () => {
    const tags = ['quo"te', "back\\slash", "tab\there", "caf%C3%A9"];
    for (const automaticDeserialization of [true, false]) {
      const prefix = randomPrefix("handler-texts");
      const client = new Redis({ url: servers.redis.url, token: servers.redis.token, automaticDeserialization });
      const handler = createCacheHandler({ redis: client, prefix });
      await handler.set("page", Promise.resolve(entryOf(BINARY, { timestamp: nextNow(), tags })));
      const hit = await handler.get("page", []);
      expect(hit?.tags, String(automaticDeserialization)).toEqual(tags);
      expect(await bytesOf(hit!)).toEqual(BINARY);
      await handler.updateTags(["tab\there"], { expire: 31_536_000 });
      expect(nextSees(await handler.get("page", []), nextNow())).toBe("serve-and-regenerate");
      await handler.updateTags(['quo"te']);
      expect(await handler.get("page", [])).toBeUndefined();
    }
  });

  it("Redis unreachable or slow: get answers a miss within readTimeout, set resolves, updateTags rejects; no unhandled rejection", async () => {
    const unhandled = watchUnhandledRejections();
    const quietError = console.error;
    console.error = () => {};
    try {
      const dead = createCacheHandler({ redis: new Redis({ url: "http://127.0.0.1:1", token: "x", retry: false }), prefix: randomPrefix("dead") });
      expect(await dead.get("k", [])).toBeUndefined();
      await expect(dead.set("k", Promise.resolve(entryOf(BINARY, { timestamp: nextNow() })))).resolves.toBeUndefined();
      await expect(dead.updateTags(["posts"])).rejects.toMatchObject({ name: "CachebackStoreError" });

      const slowRedis = new Redis({ url: proxy.url, token: servers.redis.token });
      const slow = createCacheHandler({ redis: slowRedis, prefix: randomPrefix("slow"), readTimeout: 0.3 });
      await slow.get("warm", []);
      proxy.delayMs = 3000;
      const started = performance.now();
      expect(await slow.get("k", [])).toBeUndefined();
      const took = performance.now() - started;
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(1500);
      proxy.delayMs = 0;
      proxy.cut();
      await sleep(50);
    } finally {
      console.error = quietError;
      unhandled.dispose();
    }
    expect(unhandled.seen).toEqual([]);
  });
});
