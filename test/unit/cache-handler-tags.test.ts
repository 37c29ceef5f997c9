import { afterEach, describe, expect, it, vi } from "vitest";
import { notePending } from "../../src/next/pending.js";
import { embeddedStore } from "../../src/setup/embedded-store.js";
import { handlerSetupFromEnv, setupFromEnv } from "../../src/setup/env.js";
import { harness } from "../helpers/harness.js";
import { BINARY, entryOf, handlerHarness, nextSees } from "../helpers/handler-harness.js";

// One tag namespace with next-cacheback's data cache (same stamps, same clock), the notes that keep the
// two from stamping twice, and the versions of handler entries. Memory store, controlled clock.

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** next-cacheback and a cache handler on one memory store and one clock. */
function both() {
  const lib = harness();
  const h = handlerHarness({ store: lib.store, clock: lib.clock, prefix: "cacheback:" }); // the library's default prefix
  return { lib, h };
}

const source = (id: number) => ({ id });

describe("cache handler: one tag namespace with next-cacheback", () => {
  it("cacheback.revalidateTag makes 'use cache: remote' entries with the tag stale (one regeneration); updateTag expires them", async () => {
    const { lib, h } = both();
    await h.put("a", { tags: ["posts"] });
    await h.put("b", { tags: ["posts"] });
    await lib.cb.revalidateTag("posts", { nextCache: false });
    expect(nextSees(await h.handler.get("a", []), lib.clock.now)).toBe("serve-and-regenerate");
    expect(nextSees(await h.handler.get("a", []), lib.clock.now)).toBe("serve");
    await lib.cb.updateTag("posts", { nextCache: false });
    expect(await h.handler.get("b", [])).toBeUndefined();
  });

  it("Next.js's revalidateTag(tag, 'max') through the handler makes next-cacheback's entries stale; updateTag expires them", async () => {
    const { lib, h } = both();
    const post = lib.cb.defineJob("post", source, { lifetime: 600, tags: ["posts"] });
    await post(1);
    await post(2);
    await h.handler.updateTags(["posts"], { expire: 31_536_000 });
    expect(await post.withStatus(1)).toMatchObject({ status: "stale", reason: "tag", tag: "posts" });
    await h.handler.updateTags(["posts"]);
    expect(await post.withStatus(2)).toMatchObject({ status: "miss", reason: "tag", tag: "posts" });
    expect(h.last("tags-updated")).toMatchObject({ tags: ["posts"], skipped: [] });
  });

  it("a tag outside printable ASCII meets itself: next-cacheback's café is the caf%C3%A9 Next.js hands the handler", async () => {
    const { lib, h } = both();
    await h.put("k", { tags: ["caf%C3%A9"] });
    await lib.cb.updateTag("café", { nextCache: false });
    expect(await h.handler.get("k", [])).toBeUndefined();
    expect(h.last("miss")).toMatchObject({ reason: "tag-expired", tag: "caf%C3%A9" });
  });

  it("a stamp next-cacheback noted it wrote is not written again; a pages note writes only the pages' stamp", async () => {
    const { lib, h } = both();
    const feed = lib.cb.defineJob("feed", source, { lifetime: 600, tags: ["feed-notes"] });
    await feed(1);
    await h.put("page", { tags: ["feed-notes"] });
    const stamps = vi.spyOn(lib.store, "stampTags");

    // next-cacheback's own revalidateTag stamped "stale-notes" and asks Next.js to revalidate it: skip it.
    notePending(["stale-notes"], "stale");
    await h.handler.updateTags(["stale-notes", "user-own"], { expire: 31_536_000 });
    expect(h.last("tags-updated")).toMatchObject({ tags: ["user-own"], skipped: ["stale-notes"] });
    expect(stamps).toHaveBeenCalledTimes(1);
    notePending(["expire-notes"], "expire");
    await h.handler.updateTags(["expire-notes"]);
    expect(h.last("tags-updated")).toMatchObject({ tags: [], skipped: ["expire-notes"], version: undefined });
    expect(stamps).toHaveBeenCalledTimes(1); // nothing to write: no round trip

    // The refresh route wrote new data: only the pages regenerate, next-cacheback's entry stays fresh.
    notePending(["feed-notes"], "pages");
    await h.handler.updateTags(["feed-notes"], { expire: 31_536_000 });
    expect(stamps).toHaveBeenLastCalledWith(expect.anything(), ["cacheback:tag:feed-notes"], { kind: "pages" }, expect.any(Number));
    expect(await feed.withStatus(1)).toMatchObject({ status: "hit" });
    expect(nextSees(await h.handler.get("page", []), lib.clock.now)).toBe("serve-and-regenerate");
  });

  it("the embedded default: the default instance and the default handler use one memory store", () => {
    for (const name of ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "KV_REST_API_URL", "KV_REST_API_TOKEN"]) vi.stubEnv(name, "");
    expect(handlerSetupFromEnv().store).toBe(embeddedStore());
    expect(setupFromEnv().config.store).toBe(embeddedStore());
    vi.stubEnv("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:1");
    vi.stubEnv("UPSTASH_REDIS_REST_TOKEN", "t");
    expect(handlerSetupFromEnv()).toMatchObject({ store: undefined, notice: undefined });
    expect(handlerSetupFromEnv().redis).toBeDefined();
  });

  it("the default export says once, at first use, that it runs on the embedded default (a warning in production, not at build)", async () => {
    for (const name of ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "KV_REST_API_URL", "KV_REST_API_TOKEN"]) vi.stubEnv(name, "");
    delete (globalThis as Record<symbol, unknown>)[Symbol.for("next-cacheback.cache-handler")];
    const info = vi.spyOn(console, "info").mockImplementation(() => {});
    const { default: handler } = await import("../../src/cache-handler/index.js");
    expect(info).not.toHaveBeenCalled(); // loading the module reads nothing
    expect(await handler.getExpiration(["a"])).toBe(Infinity);
    await handler.set("k", Promise.resolve(entryOf(BINARY, { timestamp: performance.timeOrigin + performance.now() })));
    expect(await handler.get("k", [])).toBeDefined();
    await handler.updateTags(["t"]);
    expect(info).toHaveBeenCalledTimes(1);
    expect(String(info.mock.calls[0]![0])).toMatch(/cache handler: no Upstash credentials found: 'use cache: remote' entries are kept in this process's memory/);

    vi.stubEnv("NODE_ENV", "production");
    expect(handlerSetupFromEnv()).toMatchObject({ warn: true, notice: expect.stringMatching(/WARNING: the cache handler runs in production/) });
    vi.stubEnv("NEXT_PHASE", "phase-production-build");
    expect(handlerSetupFromEnv()).toMatchObject({ warn: false, notice: expect.stringMatching(/no Upstash credentials at build time/) });
  });
});

describe("cache handler: an entry's version is taken before its data is computed", () => {
  it("a tag invalidation during a regeneration after a miss leaves the new entry stale", async () => {
    const h = handlerHarness();
    expect(await h.handler.get("k", [])).toBeUndefined(); // the read before the render
    const start = h.clock.now;
    h.advance(1);
    await h.handler.updateTags(["posts"], { expire: 31_536_000 }); // while it renders
    h.advance(1);
    await h.handler.set("k", Promise.resolve(entryOf(BINARY, { timestamp: start, tags: ["posts"] })));
    expect(nextSees(await h.handler.get("k", []), h.clock.now)).toBe("serve-and-regenerate");
    expect(h.last("stale")).toMatchObject({ reason: "tag", tag: "posts" });

    // Without an invalidation in between, the same sequence gives a fresh entry.
    expect(await h.handler.get("j", [])).toBeUndefined();
    await h.handler.set("j", Promise.resolve(entryOf(BINARY, { timestamp: h.clock.now, tags: ["posts"] })));
    expect(nextSees(await h.handler.get("j", []), h.clock.now)).toBe("serve");
  });

  it("only the read that leads to a regeneration gives its version: hits before it do not (one regeneration per invalidation)", async () => {
    const h = handlerHarness();
    await h.put("k", { tags: ["posts"] });
    expect(nextSees(await h.handler.get("k", []), h.clock.now)).toBe("serve"); // a hit, long before
    h.advance(1);
    await h.handler.updateTags(["posts"]);
    expect(await h.handler.get("k", [])).toBeUndefined();
    await h.put("k", { tags: ["posts"] });
    expect(nextSees(await h.handler.get("k", []), h.clock.now)).toBe("serve");
    await h.handler.updateTags(["posts"], { expire: 31_536_000 });
    expect(nextSees(await h.handler.get("k", []), h.clock.now)).toBe("serve-and-regenerate");
    await h.put("k", { tags: ["posts"] });
    expect(nextSees(await h.handler.get("k", []), h.clock.now)).toBe("serve");
  });

  it("the same on the stale path: the winner's read gives the version", async () => {
    const h = handlerHarness();
    await h.put("k", { tags: ["posts"] });
    h.advance(61);
    expect(nextSees(await h.handler.get("k", []), h.clock.now)).toBe("serve-and-regenerate");
    const start = h.clock.now;
    await h.handler.updateTags(["posts"], { expire: 31_536_000 });
    await h.handler.set("k", Promise.resolve(entryOf(BINARY, { timestamp: start, tags: ["posts"] })));
    expect(nextSees(await h.handler.get("k", []), h.clock.now)).toBe("serve-and-regenerate");
  });

  it("a set with no read before it takes the clock's version, but no later than the entry's own start", async () => {
    const h = handlerHarness();
    const start = h.clock.now;
    h.advance(1);
    await h.handler.updateTags(["posts"]);
    h.advance(1);
    await h.handler.set("early", Promise.resolve(entryOf(BINARY, { timestamp: start, tags: ["posts"] })));
    expect(await h.handler.get("early", [])).toBeUndefined(); // began before the updateTag
    await h.handler.set("late", Promise.resolve(entryOf(BINARY, { timestamp: h.clock.now, tags: ["posts"] })));
    expect(nextSees(await h.handler.get("late", []), h.clock.now)).toBe("serve");
  });

  it("a set never replaces a newer entry of the same key", async () => {
    const h = handlerHarness();
    const old = h.clock.now;
    h.advance(5);
    await h.put("k", {}, [2]);
    await h.handler.set("k", Promise.resolve(entryOf([1], { timestamp: old })));
    expect(h.last("set")).toMatchObject({ written: false });
    const { bytesOf } = await import("../helpers/handler-harness.js");
    expect(await bytesOf(await h.handler.get("k", []))).toEqual([2]);
  });
});
