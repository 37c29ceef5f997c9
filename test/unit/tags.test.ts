import { describe, expect, it, vi } from "vitest";
import { CachebackOptionsError, CachebackStoreError } from "../../src/errors.js";
import { encodeTag, entryTags } from "../../src/tags/tags.js";
import { harness } from "../helpers/harness.js";

const source = (id: number) => ({ id, at: Date.now() });

describe("tags: the option and its rules", () => {
  it("a tag is non-empty text of at most 256 characters; the error names the tag and the rule", () => {
    expect(() => encodeTag("")).toThrow(CachebackOptionsError);
    expect(() => encodeTag("")).toThrow(/non-empty/);
    expect(() => encodeTag(42)).toThrow(/non-empty string, got 42/);
    expect(() => encodeTag("x".repeat(257))).toThrow(/"xxxxxxxx.*257 characters long; a tag has at most 256/);
    expect(encodeTag("x".repeat(256))).toHaveLength(256);
  });

  it("outside printable ASCII a tag is percent-encoded the way Next.js hands tags to cache handlers", () => {
    expect(encodeTag("café")).toBe("caf%C3%A9");
    expect(encodeTag("caf%C3%A9")).toBe("caf%C3%A9"); // idempotent
    expect(encodeTag("posts 🚀 new")).toBe("posts %F0%9F%9A%80 new");
    expect(encodeTag("tab\there/[slug]")).toBe("tab\there/[slug]");
    expect(() => encodeTag("bad\ud800")).toThrow(/unpaired surrogate/);
  });

  it("the layers combine (instance, then job or call, a list or a function of the arguments) and the limit applies to the whole", () => {
    const byId = (id: number) => ["posts", `post:${id}`];
    expect(entryTags([["all"], byId as never], [7], "k")).toEqual(["all", "posts", "post:7"]);
    expect(entryTags([["posts"], ["posts", "x"]], [], "k")).toEqual(["posts", "x"]);
    const many = Array.from({ length: 40 }, (_, i) => `t${i}`);
    const more = Array.from({ length: 40 }, (_, i) => `u${i}`);
    expect(() => entryTags([many, more], [], "feed")).toThrow(/"feed" would carry 80 tags; an entry carries at most 64/);
    expect(() => entryTags([() => "nope"] as never, [], "k")).toThrow(/must be a list of strings/);
  });

  it("a bad tag in a read, a job or the instance defaults is a CachebackOptionsError", async () => {
    const h = harness();
    await expect(h.cb.fetch(["item", 1], source, { tags: [""] })).rejects.toThrow(CachebackOptionsError);
    const job = h.cb.defineJob("bad", source, { tags: (id: number) => [`x${"y".repeat(300)}${id}`] });
    await expect(job(1)).rejects.toThrow(/a tag has at most 256/);
    expect(() => harness({ defaults: { tags: ["ok", ""] } })).toThrow(CachebackOptionsError);
  });

  it("ttl larger than maxTtl is a CachebackOptionsError, in a read and in the defaults", async () => {
    const h = harness({ maxTtl: 3600, defaults: { lifetime: 60 } });
    await expect(h.cb.fetch("k", () => 1, { ttl: 7200 })).rejects.toThrow(/ttl \(7200 s\) is larger than the instance's maxTtl \(3600 s\)/);
    expect(() => harness({ maxTtl: 60, defaults: { ttl: 120, lifetime: 10 } })).toThrow(CachebackOptionsError);
    expect(() => harness({ maxTtl: 0 })).toThrow(/maxTtl must be a positive/);
    // Without a ttl of its own, an entry lives at most maxTtl.
    expect(harness({ maxTtl: 3600, defaults: { lifetime: 60 } }).cb).toBeDefined();
  });
});

describe("tags: invalidation by meaning", () => {
  it("revalidateTag: every entry with the tag written before it is stale at once, served, and refreshed once", async () => {
    const h = harness();
    const post = h.cb.defineJob("post", source, { lifetime: 600, tags: (id: number) => ["posts", `post:${id}`] });
    const other = h.cb.defineJob("other", source, { lifetime: 600, tags: ["others"] });
    await post(1);
    await post(2);
    await other(3);
    await h.settle();

    const done = await h.cb.revalidateTag("posts");
    expect(done.tags).toEqual(["posts"]);
    expect(done.version).toBeGreaterThan(0);

    const reads = await Promise.all(Array.from({ length: 20 }, () => post.withStatus(1)));
    for (const r of reads) expect(r).toMatchObject({ status: "stale", reason: "tag", tag: "posts", syncFetch: false, refreshScheduled: true });
    expect(await post.withStatus(2)).toMatchObject({ status: "stale", reason: "tag" });
    expect(await other.withStatus(3)).toMatchObject({ status: "hit", reason: "fresh" });
    await h.settle();
    expect(h.queue.published.map((p) => p.message.args)).toEqual([[1], [2]]);
    expect(h.queue.published[0]!.message.tags).toEqual(["posts", "post:1"]);
    expect(h.events.filter((e) => e.type === "stale")[0]).toMatchObject({ reason: "tag", tag: "posts" });
  });

  it("updateTag: every such entry is expired: the next read fetches synchronously (the writer reads its own write)", async () => {
    const h = harness();
    let version = 1;
    const note = h.cb.defineJob("note", (id: number) => ({ id, version }), { lifetime: 600, tags: (id: number) => [`note:${id}`] });
    expect(await note(1)).toEqual({ id: 1, version: 1 });
    await h.settle();
    version = 2;
    await h.cb.updateTag(["note:1"]);
    expect(await note.withStatus(1)).toMatchObject({ value: { version: 2 }, status: "miss", reason: "tag", tag: "note:1", syncFetch: true });
    await h.settle();
    expect(await note.withStatus(1)).toMatchObject({ value: { version: 2 }, status: "hit" });
    expect(h.queue.published).toHaveLength(0);
  });

  it("updateTag with fetchOnMiss: false: empty at once, and a background refresh", async () => {
    const h = harness();
    const fn = vi.fn(() => ["a"]);
    await h.cb.set("feed", ["old"], { tags: ["feed"] });
    await h.cb.updateTag("feed");
    expect(await h.cb.fetchWithStatus("feed", fn, { fetchOnMiss: false, tags: ["feed"] })).toMatchObject({
      value: null,
      status: "miss",
      reason: "tag",
      refreshScheduled: true,
    });
    await h.settle();
    expect(fn).not.toHaveBeenCalled();
    expect(h.queue.published).toHaveLength(1);
  });

  it("a set after an invalidation is fresh; a refresh that began before it is written but stays stale", async () => {
    const h = harness();
    const post = h.cb.defineJob("post", source, { lifetime: 600, tags: ["posts"] });
    await post(1);
    await h.settle();
    await h.cb.revalidateTag("posts");
    expect((await post.withStatus(1)).status).toBe("stale");
    await h.settle();
    const message = h.queue.published[0]!.message;

    // The refresh starts (takes its version and calls the job), then the tag is revalidated again before it writes.
    let release!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const jobStarted = new Promise<void>((r) => (started = r));
    const slowJob = async (id: number) => {
      started();
      await gate;
      return { id, at: -1 };
    };
    const refreshing = h.cb.runRefresh(message, slowJob, post.options);
    await jobStarted;
    await h.cb.revalidateTag("posts");
    release();
    expect(await refreshing).toMatchObject({ ok: true, status: "written" });
    h.advance(1); // past this process's memo of its own refresh request
    // Its value is the newest there is, and is served, but the entry stays stale: the next read queues again.
    const after = await post.withStatus(1);
    expect(after).toMatchObject({ status: "stale", reason: "tag", value: { id: 1, at: -1 } });
    await h.settle();
    expect(h.queue.published).toHaveLength(2);

    // A set after the invalidation is fresh.
    await post.set(1, { id: 1, at: 42 });
    expect(await post.withStatus(1)).toMatchObject({ status: "hit", value: { id: 1, at: 42 } });
  });

  it("an invalidation reaches every instance sharing the store, whichever clock runs ahead", async () => {
    const a = harness();
    const ahead = harness({ store: a.store, now: () => a.clock.now + 5_000 });
    const behind = harness({ store: a.store, now: () => a.clock.now - 5_000 });
    const job = (h: typeof a) => h.cb.defineJob("item", source, { lifetime: 600, tags: ["items"] });

    // Written on the instance 5 s ahead; invalidated on the one 5 s behind: still reached.
    await job(ahead)(1);
    await ahead.settle();
    await behind.cb.revalidateTag("items");
    expect(await job(a).withStatus(1)).toMatchObject({ status: "stale", reason: "tag" });
    expect(await job(ahead).withStatus(1)).toMatchObject({ status: "stale", reason: "tag" });

    // A set made after the invalidation, on the instance whose clock is behind, is fresh everywhere.
    await job(behind).set(1, { id: 1, at: 7 });
    expect(await job(ahead).withStatus(1)).toMatchObject({ status: "hit", value: { at: 7 } });
    expect(await job(behind).withStatus(1)).toMatchObject({ status: "hit", value: { at: 7 } });

    // And an updateTag on the ahead instance expires what the behind one wrote just before.
    await job(behind).set(2, { id: 2, at: 8 });
    await ahead.cb.updateTag("items");
    expect(await job(behind).withStatus(2)).toMatchObject({ status: "miss", reason: "tag", syncFetch: true });
  });

  it("the entry records its tags; a reader with other tags is governed by the stored ones too, and warned once", async () => {
    // Background work waits until the test has counted the read's own store calls.
    const held: (() => Promise<unknown>)[] = [];
    const h = harness({ runInBackground: async (task) => void held.push(task) });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    await h.cb.fetch(["item", 1], source, { tags: ["a", "b"] });
    for (const task of held.splice(0)) await task();
    expect((await h.cb.peek(["item", 1])).tags).toEqual(["a", "b"]);
    await h.cb.revalidateTag("b");
    const calls = countStoreCalls(h.store);
    expect(await h.cb.fetchWithStatus(["item", 1], source, { tags: ["a"] })).toMatchObject({ status: "stale", reason: "tag", tag: "b" });
    expect(calls().filter((c) => c.startsWith("get"))).toEqual(["getWithStamps", "getStamps"]);
    await h.cb.fetchWithStatus(["item", 1], source, { tags: ["a"] });
    expect(warn.mock.calls.filter(([line]) => String(line).includes("was written with tags"))).toHaveLength(1);
    warn.mockRestore();
  });

  it("a hit with tags is one store call, as a hit without", async () => {
    const h = harness();
    const tags = Array.from({ length: 8 }, (_, i) => `t${i}`);
    await h.cb.fetch(["tagged", 1], source, { tags });
    await h.cb.fetch(["plain", 1], source);
    await h.settle();
    const calls = countStoreCalls(h.store);
    expect(await h.cb.fetchWithStatus(["tagged", 1], source, { tags })).toMatchObject({ status: "hit" });
    expect(calls()).toEqual(["getWithStamps"]);
    expect(await h.cb.fetchWithStatus(["plain", 1], source)).toMatchObject({ status: "hit" });
    expect(calls()).toEqual(["getWithStamps", "get"]);
  });

  it("peek shows an entry's tags and whether a tag invalidated it", async () => {
    const h = harness();
    await h.cb.set(["item", 1], "v", { tags: ["a", "b"] });
    expect(await h.cb.peek(["item", 1])).toMatchObject({ status: "hit", tags: ["a", "b"], invalidatedBy: null });
    await h.cb.revalidateTag("a");
    expect(await h.cb.peek(["item", 1])).toMatchObject({ status: "stale", invalidatedBy: { tag: "a", kind: "stale" } });
    await h.cb.updateTag(["b"]);
    expect(await h.cb.peek(["item", 1])).toMatchObject({ status: "miss", value: "v", invalidatedBy: { tag: "b", kind: "expired" } });
  });

  it("stamps and the clock expire after maxTtl; nothing of a tag invalidation stays in the store", async () => {
    const h = harness({ maxTtl: 3600, defaults: { ttl: 3600 } });
    await h.cb.revalidateTag(["a", "b", "c"]);
    expect(h.store.size).toBe(4); // three stamps and the clock
    h.advance(3601);
    expect(h.store.size).toBe(0);
  });

  it("a tag invalidation when the store is down is a CachebackStoreError; reads still fail open", async () => {
    const h = harness();
    h.store.stampTags = () => Promise.reject(new Error("connection refused"));
    h.store.getWithStamps = () => Promise.reject(new Error("connection refused"));
    const failure = h.cb.revalidateTag("posts");
    await expect(failure).rejects.toBeInstanceOf(CachebackStoreError);
    await expect(h.cb.updateTag("posts")).rejects.toThrow(/updateTag\("posts"\) failed: Error: connection refused\. Nothing was changed/);
    expect(await h.cb.fetchWithStatus(["item", 1], () => "from source", { tags: ["posts"] })).toMatchObject({
      value: "from source",
      status: "miss",
      reason: "store-error",
    });
  });

  it("invalidating many tags is one store call, whatever the number of entries", async () => {
    const h = harness();
    for (let i = 0; i < 50; i++) await h.cb.set(["item", i], i, { tags: ["all", `t${i % 5}`] });
    const calls = countStoreCalls(h.store);
    const tags = Array.from({ length: 100 }, (_, i) => `t${i}`);
    await h.cb.revalidateTag([...tags, "all"]);
    expect(calls()).toEqual(["stampTags"]);
    for (let i = 0; i < 50; i += 7) expect((await h.cb.peek(["item", i])).status).toBe("stale");
  });
});

/** Records which store methods are called from now on. */
function countStoreCalls(store: object): () => string[] {
  const calls: string[] = [];
  for (const method of ["get", "getWithStamps", "getStamps", "nextVersion", "stampTags", "set", "setIfNotNewer", "markStale", "delete", "acquireLock", "forceLock", "releaseLock"]) {
    const target = store as Record<string, (...a: unknown[]) => unknown>;
    const original = target[method]!.bind(store);
    target[method] = (...a: unknown[]) => {
      calls.push(method);
      return original(...a);
    };
  }
  return () => [...calls];
}
