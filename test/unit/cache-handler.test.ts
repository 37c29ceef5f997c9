import { afterEach, describe, expect, it, vi } from "vitest";
import { BINARY, bytesOf, entryOf, handlerHarness, nextSees } from "../helpers/handler-harness.js";

// Rule by rule against Next.js's default handler (next/dist/server/lib/cache-handlers/default.js) and the
// comments of its CacheHandler interface (types.d.ts). Memory store, controlled clock, no sleeps.

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("cache handler: as Next.js's default handler", () => {
  it("a miss, then the entry as set: same bytes, tags and metadata, a new stream from every get", async () => {
    const h = handlerHarness();
    expect(await h.handler.get("k", [])).toBeUndefined();
    expect(h.last("miss")).toEqual({ type: "miss", key: "k", reason: "absent" });
    await h.put("k", { tags: ["posts", "post:1"], revalidate: 60, expire: 3600, stale: 30 });
    expect(h.last("set")).toMatchObject({ key: "k", bytes: 4, written: true });
    const a = await h.handler.get("k", []);
    const b = await h.handler.get("k", []);
    expect(a).toMatchObject({ tags: ["posts", "post:1"], timestamp: h.clock.now, revalidate: 60, expire: 3600, stale: 30 });
    expect(a!.value).not.toBe(b!.value);
    const first = await bytesOf(a);
    expect(first).toEqual(BINARY);
    expect(await bytesOf(b)).toEqual(BINARY);
    expect(h.last("hit")).toEqual({ type: "hit", key: "k" });
  });

  it("a reader that changes the bytes it got does not change the stored entry", async () => {
    const h = handlerHarness();
    await h.put("k");
    const reader = (await h.handler.get("k", []))!.value.getReader();
    const { value } = await reader.read();
    value!.fill(0);
    expect(await bytesOf(await h.handler.get("k", []))).toEqual(BINARY);
  });

  it("past expire: a miss", async () => {
    const h = handlerHarness();
    await h.put("k", { revalidate: 60, expire: 120 });
    h.advance(119.999);
    expect(nextSees(await h.handler.get("k", []), h.clock.now)).toBe("serve-and-regenerate");
    h.advance(0.002);
    expect(await h.handler.get("k", [])).toBeUndefined();
  });

  it("updateTags without durations (updateTag): entries written before are a miss at once, entries written after are served", async () => {
    const h = handlerHarness();
    await h.put("tagged", { tags: ["posts"] });
    await h.put("other", { tags: ["users"] });
    await h.handler.updateTags(["posts"]);
    expect(await h.handler.get("tagged", [])).toBeUndefined();
    expect(h.last("miss")).toEqual({ type: "miss", key: "tagged", reason: "tag-expired", tag: "posts" });
    expect(nextSees(await h.handler.get("other", []), h.clock.now)).toBe("serve");
    h.advance(1);
    await h.put("tagged", { tags: ["posts"] });
    expect(nextSees(await h.handler.get("tagged", []), h.clock.now)).toBe("serve");
  });

  it("updateTags with durations (revalidateTag(tag, profile)): stale now, served and regenerated once; a miss from now + expire", async () => {
    const h = handlerHarness();
    await h.put("k", { tags: ["posts"], revalidate: 900, expire: 86_400 });
    await h.handler.updateTags(["posts"], { expire: 600 });
    const first = await h.handler.get("k", []);
    expect(first!.revalidate).toBe(-1); // as Next.js's default handler does for a stale tag
    expect(nextSees(first, h.clock.now)).toBe("serve-and-regenerate");
    expect(h.last("stale")).toEqual({ type: "stale", key: "k", regenerate: true, reason: "tag", tag: "posts" });
    const second = await h.handler.get("k", []);
    expect(second).toMatchObject({ revalidate: 900, expire: 86_400 });
    expect(nextSees(second, h.clock.now)).toBe("serve");
    h.advance(599);
    expect(await h.handler.get("k", [])).toBeDefined();
    h.advance(1);
    expect(await h.handler.get("k", [])).toBeUndefined();
    expect(h.last("miss")).toMatchObject({ reason: "tag-expired", tag: "posts" });
  });

  it("updateTags with { expire: 0 } (revalidateTag(tag, { expire: 0 })) expires at once", async () => {
    const h = handlerHarness();
    await h.put("k", { tags: ["posts"] });
    await h.handler.updateTags(["posts"], { expire: 0 });
    expect(await h.handler.get("k", [])).toBeUndefined();
  });

  it("getExpiration answers Infinity and get checks the soft tags itself: expired is a miss, stale is served and regenerated once", async () => {
    const h = handlerHarness();
    expect(await h.handler.getExpiration(["_N_T_/layout", "_N_T_/posts"])).toBe(Infinity);
    await expect(h.handler.refreshTags()).resolves.toBeUndefined();
    await h.put("a");
    await h.put("b");
    await h.handler.updateTags(["_N_T_/posts/layout"]); // revalidatePath("/posts", "layout")
    await h.handler.updateTags(["_N_T_/feed"], { expire: 31_536_000 });
    expect(await h.handler.get("a", ["_N_T_/layout", "_N_T_/posts/layout"])).toBeUndefined();
    expect(h.last("miss")).toMatchObject({ reason: "tag-expired", tag: "_N_T_/posts/layout" });
    expect(nextSees(await h.handler.get("a", ["_N_T_/layout", "_N_T_/users/layout"]), h.clock.now)).toBe("serve");
    expect(nextSees(await h.handler.get("b", ["_N_T_/feed"]), h.clock.now)).toBe("serve-and-regenerate");
    expect(nextSees(await h.handler.get("b", ["_N_T_/feed"]), h.clock.now)).toBe("serve");
  });

  it("expire: 0 entries are not stored outside next dev (the stream is let go); under next dev they are, for at least 5 minutes", async () => {
    const h = handlerHarness();
    const dynamic = entryOf(BINARY, { timestamp: h.clock.now, expire: 0, revalidate: 0 });
    await h.handler.set("k", Promise.resolve(dynamic));
    expect(h.last("set-skipped")).toMatchObject({ key: "k", reason: "dynamic" });
    expect(dynamic.value.locked).toBe(false);
    expect(await h.handler.get("k", [])).toBeUndefined();

    vi.stubEnv("__NEXT_DEV_SERVER", "1");
    const dev = handlerHarness();
    await dev.put("k", { expire: 0, revalidate: 0 });
    dev.advance(299);
    expect(await dev.handler.get("k", [])).toMatchObject({ expire: 0 });
    dev.advance(1);
    expect(await dev.handler.get("k", [])).toBeUndefined();
  });

  it("a negative expire is Next.js's eviction sentinel: the stored entry is removed", async () => {
    const h = handlerHarness();
    await h.put("k");
    await h.put("k", { expire: -1 });
    expect(h.last("set-skipped")).toMatchObject({ key: "k", reason: "evicted" });
    expect(await h.handler.get("k", [])).toBeUndefined();
    expect(h.last("miss")).toMatchObject({ reason: "absent" });
  });
});

describe("cache handler: the one difference, stale-while-revalidate with one regeneration", () => {
  it("past revalidate and within expire the entry is served; only the lock's winner is told to regenerate", async () => {
    const h = handlerHarness();
    const written = h.clock.now;
    await h.put("k", { revalidate: 60, expire: 3600 });
    h.advance(61);
    const winner = await h.handler.get("k", []);
    expect(nextSees(winner, h.clock.now)).toBe("serve-and-regenerate");
    expect(winner).toMatchObject({ timestamp: written, revalidate: 60, expire: 3600 });
    expect(h.last("stale")).toEqual({ type: "stale", key: "k", regenerate: true, reason: "revalidate" });
    for (let i = 0; i < 3; i++) {
      const other = await h.handler.get("k", []);
      expect(nextSees(other, h.clock.now)).toBe("serve");
      // Only the timestamp moves (never past now); revalidate and expire stay the entry's own.
      expect(other).toMatchObject({ revalidate: 60, expire: 3600 });
      expect(other!.timestamp).toBeLessThanOrEqual(h.clock.now);
      expect(await bytesOf(other)).toEqual(BINARY);
    }
    expect(h.last("stale")).toMatchObject({ regenerate: false });
    // The winner's set releases the lock: the next time the entry is stale, the first reader wins again.
    await h.put("k", { revalidate: 60, expire: 3600 });
    expect(nextSees(await h.handler.get("k", []), h.clock.now)).toBe("serve");
    h.advance(61);
    expect(nextSees(await h.handler.get("k", []), h.clock.now)).toBe("serve-and-regenerate");
  });

  it("when the winner's regeneration never lands, the lock expires after lockTimeout and another reader regenerates", async () => {
    const h = handlerHarness({ lockTimeout: 30 });
    await h.put("k", { revalidate: 60, expire: 3600 });
    h.advance(61);
    expect(nextSees(await h.handler.get("k", []), h.clock.now)).toBe("serve-and-regenerate");
    h.advance(29);
    expect(nextSees(await h.handler.get("k", []), h.clock.now)).toBe("serve");
    h.advance(1);
    expect(nextSees(await h.handler.get("k", []), h.clock.now)).toBe("serve-and-regenerate");
  });
});

describe("cache handler: the interface's rules", () => {
  it("binary-safe: bytes that are not UTF-8, in several chunks, come back as they went in", async () => {
    const h = handlerHarness();
    await h.handler.set("k", Promise.resolve(entryOf([[0xff, 0xfe], [0x00], [], [0x80, 0xc3]], { timestamp: h.clock.now })));
    expect(await bytesOf(await h.handler.get("k", []))).toEqual([0xff, 0xfe, 0x00, 0x80, 0xc3]);
  });

  it("tags are stored once each, empty ones dropped, anything outside printable ASCII percent-encoded", async () => {
    const h = handlerHarness();
    await h.put("k", { tags: ["a", "", "a", "b\nc", "caf%C3%A9"] });
    expect((await h.handler.get("k", []))!.tags).toEqual(["a", "b%0Ac", "caf%C3%A9"]);
  });

  it("set reads the stream once, to its end, and lets go of it", async () => {
    const h = handlerHarness();
    let pulls = 0;
    const chunks = [[1, 2], [3]];
    const value = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        const next = chunks.shift();
        if (next) controller.enqueue(new Uint8Array(next));
        else controller.close();
      },
    });
    await h.handler.set("k", Promise.resolve({ value, tags: [], stale: 0, timestamp: h.clock.now, revalidate: 60, expire: 600 }));
    expect(pulls).toBe(3);
    expect(value.locked).toBe(false);
    expect(await value.getReader().read()).toEqual({ done: true, value: undefined });
    expect(await bytesOf(await h.handler.get("k", []))).toEqual([1, 2, 3]);
  });

  it("a get that races a pending set of the same key waits for it; other keys do not", async () => {
    const h = handlerHarness();
    await h.put("other");
    let resolve!: (e: ReturnType<typeof entryOf>) => void;
    const setting = h.handler.set("k", new Promise((r) => (resolve = r)));
    let got: unknown = "pending";
    const getting = h.handler.get("k", []).then((e) => (got = e));
    expect(await h.handler.get("other", [])).toBeDefined();
    await new Promise((r) => setImmediate(r));
    expect(got).toBe("pending");
    resolve(entryOf(BINARY, { timestamp: h.clock.now }));
    await setting;
    await getting;
    expect(await bytesOf(got as never)).toEqual(BINARY);
  });

  it("a set whose stream fails stores nothing (partial data is dropped), reports it, resolves, and a later get does not wait", async () => {
    const h = handlerHarness();
    const value = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([1, 2, 3]));
        controller.error(new Error("render failed"));
      },
    });
    await expect(h.handler.set("k", Promise.resolve({ value, tags: [], stale: 0, timestamp: h.clock.now, revalidate: 60, expire: 600 }))).resolves.toBeUndefined();
    expect(h.last("set-skipped")).toMatchObject({ key: "k", reason: "stream-error" });
    expect(await h.handler.get("k", [])).toBeUndefined();
    await expect(h.handler.set("r", Promise.reject(new Error("no entry")))).resolves.toBeUndefined();
    expect(await h.handler.get("r", [])).toBeUndefined();
  });

  it("the handler owns eviction: an entry lives until the smaller of its expire and maxTtl", async () => {
    const h = handlerHarness({ maxTtl: 3600 });
    await h.put("forever", { revalidate: 900, expire: 0xfffffffe });
    await h.put("short", { revalidate: 60, expire: 600 });
    h.advance(599);
    expect(await h.handler.get("short", [])).toBeDefined();
    h.advance(1);
    expect(await h.handler.get("short", [])).toBeUndefined();
    h.advance(2999);
    expect(await h.handler.get("forever", [])).toBeDefined();
    h.advance(1);
    expect(await h.handler.get("forever", [])).toBeUndefined();
    expect(h.last("miss")).toMatchObject({ reason: "absent" }); // gone from the store, not just judged expired
  });

  it("an entry over maxEntrySize is not stored: a clear log line and an event", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const h = handlerHarness({ maxEntrySize: 4 });
    await h.put("fits", {}, [1, 2, 3, 4]);
    await h.handler.set("big", Promise.resolve(entryOf([[1, 2, 3], [4, 5], [6]], { timestamp: h.clock.now })));
    expect(h.last("set-skipped")).toEqual({ type: "set-skipped", key: "big", reason: "too-large", bytes: 5 });
    expect(error).toHaveBeenCalledTimes(1);
    expect(String(error.mock.calls[0]![0])).toMatch(/the entry big is over 5 bytes, more than maxEntrySize \(4 bytes\); it is not stored/);
    expect(await h.handler.get("big", [])).toBeUndefined();
    expect(await bytesOf(await h.handler.get("fits", []))).toEqual([1, 2, 3, 4]);
  });

  it("options out of range are refused", async () => {
    const { createCacheHandler } = await import("../../src/cache-handler/handler.js");
    expect(() => createCacheHandler({ readTimeout: 0 })).toThrow(/readTimeout must be a positive finite number of seconds/);
    expect(() => createCacheHandler({ maxTtl: -1 })).toThrow(/maxTtl/);
    expect(() => createCacheHandler({ maxEntrySize: 1.5 })).toThrow(/maxEntrySize must be a positive whole number/);
  });
});
