import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Client } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cacheback } from "../../src/cacheback.js";
import { startDevServers, type DevServers } from "../../packages/dev/src/index.js";
import { ensureBuilt, ROOT } from "../helpers/built-package.js";
import { serveFetch, type ServedHandler } from "../helpers/serve-fetch.js";
import { eventually, randomPrefix } from "../helpers/wait.js";

// Tags over the official clients and the dev servers on the real redis-server, counted at the server.
const run = promisify(execFile);

let servers: DevServers;
let app: ServedHandler;
let cb: Cacheback;
const prefix = randomPrefix("tags");
const sourceCalls = new Map<string, number>();
let gate: Promise<void> = Promise.resolve();

const item = async (id: string) => {
  sourceCalls.set(id, (sourceCalls.get(id) ?? 0) + 1);
  await gate;
  return { id, from: "refresh", n: sourceCalls.get(id) };
};

beforeAll(async () => {
  ensureBuilt();
  servers = await startDevServers({ redis: { port: 0 }, qstash: { port: 0, retryDelayScale: 0.001 } });
  let handler: (r: Request) => Promise<Response> = async () => new Response("starting", { status: 503 });
  app = await serveFetch({ "/api/cacheback": (r) => handler(r) });
  cb = new Cacheback({
    redis: new Redis({ url: servers.redis.url, token: servers.redis.token }),
    qstash: new Client({ baseUrl: servers.qstash.url, token: servers.qstash.token }),
    refreshUrl: `${app.origin}/api/cacheback`,
    signingKeys: { current: servers.qstash.currentSigningKey, next: servers.qstash.nextSigningKey },
    prefix,
  });
  handler = cb.createRefreshHandler({ jobs: { item } });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await servers?.close();
});

describe("tags over the official clients, counted at the server", () => {
  it("a hit with 0, 1 and 8 tags is one Redis command in one HTTP request", async () => {
    const layouts = { none: [], one: ["a"], eight: Array.from({ length: 8 }, (_, i) => `t${i}`) };
    for (const [name, tags] of Object.entries(layouts)) {
      await cb.set(["item", `hit-${name}`], { id: name }, { lifetime: 60, tags });
      // A stamp for each tag, so the read really fetches stamps (invalidated before the write: no effect).
      if (tags.length > 0) await cb.revalidateTag(tags, { nextCache: false });
      await cb.set(["item", `hit-${name}`], { id: name }, { lifetime: 60, tags });
    }
    for (const [name, tags] of Object.entries(layouts)) {
      servers.redis.resetStats();
      const read = await cb.fetchWithStatus(["item", `hit-${name}`], item, { lifetime: 60, tags });
      expect(read).toMatchObject({ status: "hit", value: { id: name } });
      expect(servers.redis.stats(), name).toMatchObject({ requests: 1, commands: 1 });
    }
  });

  it("invalidating 100 tags is one HTTP request, whatever the number of entries", async () => {
    const tags = Array.from({ length: 100 }, (_, i) => `bulk:${i}`);
    for (let i = 0; i < 30; i++) await cb.set(["item", `bulk-${i}`], i, { lifetime: 60, tags: [`bulk:${i}`, "bulk"] });
    await cb.revalidateTag("warm-the-script", { nextCache: false }); // the first call of a script loads it (EVALSHA, then EVAL)
    servers.redis.resetStats();
    const done = await cb.revalidateTag([...tags, "bulk"], { nextCache: false });
    expect(done.tags).toHaveLength(101);
    expect(servers.redis.stats()).toMatchObject({ requests: 1, commands: 1 });
    for (const i of [0, 17, 29]) expect((await cb.peek(["item", `bulk-${i}`])).status).toBe("stale");
  });

  it("two processes see one revalidateTag on their next read; each entry is refreshed once", async () => {
    const ids = ["p1", "p2", "p3", "p4"];
    for (const id of ids) await cb.set(["item", id], { id, from: "seed" }, { lifetime: 60, tags: ["shared"] });
    await cb.revalidateTag("shared", { nextCache: false });
    let openGate!: () => void;
    gate = new Promise<void>((resolve) => (openGate = resolve));
    const env = {
      PATH: process.env.PATH,
      ...servers.env,
      CACHEBACK_REFRESH_URL: `${app.origin}/api/cacheback`,
      CACHEBACK_PREFIX: prefix,
      READ_KEYS: ids.join(","),
      READ_TAGS: "shared",
      READERS: "50",
    };
    const outputs = await Promise.all([1, 2].map(() => run(process.execPath, ["test/fixtures/tagged-reader.mjs"], { cwd: ROOT, env, timeout: 60_000 })));
    openGate();
    for (const output of outputs) {
      const seen = JSON.parse(output.stdout.trim().split("\n").at(-1)!) as Record<string, string[]>;
      expect(seen).toEqual(Object.fromEntries(ids.map((id) => [id, ["stale:tag"]])));
    }
    for (const id of ids) await eventually(`the refresh of ${id}`, async () => (await cb.peek(["item", id])).status === "hit", 20_000);
    await servers.qstash.engine.idle();
    for (const id of ids) {
      const messages = servers.qstash.engine.messages().filter((m) => m.body?.includes(`"args":["${id}"]`));
      expect(messages, id).toHaveLength(1);
      expect(sourceCalls.get(id), id).toBe(1);
      const body = JSON.parse(messages[0]!.body!) as { refreshes?: { args: string[]; tags: string[] }[]; tags?: string[] };
      const refresh = body.refreshes ? body.refreshes.find((r) => r.args[0] === id) : body;
      expect(refresh).toMatchObject({ tags: ["shared"] });
    }
  }, 90_000);

  it("instances whose clocks run 5 s ahead and 5 s behind share Redis's clock: an invalidation reaches what either wrote before it, a later set is fresh", async () => {
    const skewed = (offsetMs: number) =>
      new Cacheback({ redis: new Redis({ url: servers.redis.url, token: servers.redis.token }), prefix, now: () => Date.now() + offsetMs, nextCache: false });
    const ahead = skewed(5_000);
    const behind = skewed(-5_000);
    const tags = ["skew"];

    // Written on the instance 5 s ahead, then invalidated on the one 5 s behind: reached all the same.
    await ahead.set(["item", "skew-1"], { id: "skew-1", v: 1 }, { lifetime: 60, tags });
    await behind.revalidateTag("skew");
    for (const instance of [ahead, behind, cb]) {
      expect(await instance.peek(["item", "skew-1"])).toMatchObject({ status: "stale", invalidatedBy: { tag: "skew", kind: "stale" } });
    }

    // A set made after the invalidation, on the instance whose clock is behind, is fresh everywhere.
    await behind.set(["item", "skew-1"], { id: "skew-1", v: 2 }, { lifetime: 60, tags });
    for (const instance of [ahead, behind]) {
      expect(await instance.fetchWithStatus(["item", "skew-1"], item, { lifetime: 60, tags })).toMatchObject({ status: "hit", value: { v: 2 } });
    }

    // An updateTag on the instance ahead expires what the one behind wrote just before it.
    await behind.set(["item", "skew-2"], { id: "skew-2", v: 1 }, { lifetime: 60, tags });
    await ahead.updateTag("skew");
    expect(await behind.peek(["item", "skew-2"])).toMatchObject({ status: "miss", invalidatedBy: { tag: "skew", kind: "expired" } });
    // And a set on the instance ahead after the invalidation of the one behind is fresh on both.
    await behind.revalidateTag("skew");
    await ahead.set(["item", "skew-2"], { id: "skew-2", v: 2 }, { lifetime: 60, tags });
    expect(await behind.peek(["item", "skew-2"])).toMatchObject({ status: "hit", value: { v: 2 }, invalidatedBy: null });
  });

  it("Redis unreachable: a tag invalidation rejects with a CachebackStoreError, a tagged read falls back to the source", async () => {
    const dead = new Cacheback({ redis: new Redis({ url: "http://127.0.0.1:1", token: "x", retry: false }), prefix, readTimeout: 2 });
    await expect(dead.revalidateTag("posts", { nextCache: false })).rejects.toMatchObject({ name: "CachebackStoreError" });
    expect(await dead.fetchWithStatus(["item", "down"], item, { tags: ["posts"] })).toMatchObject({ status: "miss", reason: "store-error" });
  });
});
