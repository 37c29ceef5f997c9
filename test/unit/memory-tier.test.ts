import { describe, expect, it } from "vitest";
import { CachebackOptionsError } from "../../src/errors.js";
import { harness } from "../helpers/harness.js";

/** Counts the store's reads from now on. */
function countReads(store: object): () => number {
  let n = 0;
  const target = store as Record<string, (...a: unknown[]) => unknown>;
  for (const method of ["get", "getWithStamps"]) {
    const original = target[method]!.bind(store);
    target[method] = (...a: unknown[]) => {
      n++;
      return original(...a);
    };
  }
  return () => n;
}

const source = (id: number) => ({ id });

describe("the memory tier", () => {
  it("off by default: every read goes to the store", async () => {
    const h = harness();
    await h.cb.set(["item", 1], { id: 1 });
    const reads = countReads(h.store);
    for (let i = 0; i < 5; i++) await h.cb.fetch(["item", 1], source);
    expect(reads()).toBe(5);
  });

  it("a read that finds a copy younger than memory.lifetime costs no store command", async () => {
    const h = harness();
    await h.cb.set(["item", 1], { id: 1 }, { lifetime: 60 });
    const reads = countReads(h.store);
    const memory = { lifetime: 1 };
    expect(await h.cb.fetchWithStatus(["item", 1], source, { memory })).toMatchObject({ status: "hit" });
    for (let i = 0; i < 10; i++) {
      expect(await h.cb.fetchWithStatus(["item", 1], source, { memory })).toMatchObject({ status: "hit", fromMemory: true, value: { id: 1 } });
    }
    expect(reads()).toBe(1);
    h.advance(1);
    await h.cb.fetch(["item", 1], source, { memory });
    expect(reads()).toBe(2);
    expect(h.events.filter((e) => e.type === "hit" && e.memory)).toHaveLength(10);
  });

  it("this process's own writes and invalidations take effect in its memory at once", async () => {
    const h = harness();
    const memory = { lifetime: 60 };
    const job = h.cb.defineJob("item", (id: number) => ({ id, n: 1 }), { lifetime: 600, memory, tags: (id: number) => [`item:${id}`] });
    await job(1); // a miss: fetched and written
    await h.settle();
    expect((await job.withStatus(1)).fromMemory).toBeUndefined(); // read from the store, and kept
    expect(await job.withStatus(1)).toMatchObject({ fromMemory: true });

    await job.set(1, { id: 1, n: 2 });
    expect(await job.withStatus(1)).toMatchObject({ value: { n: 2 } });
    expect((await job.withStatus(1)).fromMemory).toBe(true);

    await h.cb.revalidateTag("item:1");
    expect(await job.withStatus(1)).toMatchObject({ status: "stale", reason: "tag" });

    await job.delete(1);
    expect(await job.withStatus(1)).toMatchObject({ status: "miss", value: { n: 1 } });
    await h.settle();

    await job.invalidate(1);
    expect(await job.withStatus(1)).toMatchObject({ status: "stale", reason: "invalidated" });
    await h.settle();
    // The refresh this process runs drops the copy too.
    expect(await h.cb.runRefresh(h.queue.published.at(-1)!.message, () => ({ id: 1, n: 3 }), job.options)).toMatchObject({ status: "written" });
    expect(await job.withStatus(1)).toMatchObject({ status: "hit", value: { n: 3 } });
    expect(job.options).toMatchObject({ memory });
  });

  it("another instance's write reaches this process within memory.lifetime, not sooner", async () => {
    const a = harness();
    const b = harness({ store: a.store, now: () => a.clock.now });
    const memory = { lifetime: 2 };
    await a.cb.set(["item", 1], { id: 1, v: "old" }, { lifetime: 600 });
    expect(await a.cb.fetch(["item", 1], source, { memory })).toEqual({ id: 1, v: "old" });
    await b.cb.set(["item", 1], { id: 1, v: "new" }, { lifetime: 600 });
    a.advance(1.9);
    expect(await a.cb.fetch(["item", 1], source, { memory })).toEqual({ id: 1, v: "old" });
    a.advance(0.1);
    expect(await a.cb.fetch(["item", 1], source, { memory })).toEqual({ id: 1, v: "new" });
  });

  it("a copy never looks fresher than Redis said: past its entry's lifetime it is served stale (and its refresh asked for) until the copy's own lifetime ends", async () => {
    const a = harness();
    const b = harness({ store: a.store, now: () => a.clock.now });
    const memory = { lifetime: 60 };
    await a.cb.set(["item", 1], { id: 1, v: "first" }, { lifetime: 5 });
    await a.cb.fetch(["item", 1], source, { memory });
    a.advance(6); // the copy is young; its entry is not fresh any more
    await b.cb.set(["item", 1], { id: 1, v: "refreshed elsewhere" }, { lifetime: 600 });
    const reads = countReads(a.store);
    expect(await a.cb.fetchWithStatus(["item", 1], source, { memory })).toMatchObject({ status: "stale", fromMemory: true, value: { v: "first" } });
    await a.settle();
    expect(reads()).toBe(1); // not the read: the refresh's check, which found the entry fresh in Redis
    expect(a.queue.published).toHaveLength(0); // so nothing was queued
    a.advance(60); // the copy's lifetime: another instance's write is seen
    expect(await a.cb.fetchWithStatus(["item", 1], source, { memory })).toMatchObject({ status: "hit", value: { v: "refreshed elsewhere" } });
  });

  it("a stale entry read from Redis is kept stale: later reads are served stale from memory, once refresh asked per window, none from Redis", async () => {
    const h = harness();
    const memory = { lifetime: 2 };
    await h.cb.set(["item", 1], { id: 1, v: "old" }, { lifetime: 0 });
    expect(await h.cb.fetchWithStatus(["item", 1], source, { memory })).toMatchObject({ status: "stale", reason: "lifetime" });
    await h.settle();
    const reads = countReads(h.store);
    for (let i = 0; i < 20; i++) {
      expect(await h.cb.fetchWithStatus(["item", 1], source, { memory })).toMatchObject({ status: "stale", fromMemory: true, value: { v: "old" } });
    }
    await h.settle();
    expect(reads()).toBe(0); // this process asked for the refresh moments ago: no lock attempt, no check
    expect(h.queue.published).toHaveLength(1);
    // The refresh this process runs drops the copy: the next read sees the new entry.
    await h.cb.runRefresh(h.queue.published[0]!.message, () => ({ id: 1, v: "new" }), undefined);
    expect(await h.cb.fetchWithStatus(["item", 1], source, { memory })).toMatchObject({ status: "hit", value: { v: "new" } });
  });

  it("concurrent reads of an entry with no copy share one read of Redis", async () => {
    const h = harness();
    await h.cb.set(["item", 1], { id: 1 }, { lifetime: 60 });
    const reads = countReads(h.store);
    const results = await Promise.all(Array.from({ length: 50 }, () => h.cb.fetchWithStatus(["item", 1], source, { memory: { lifetime: 1 } })));
    expect(results.every((r) => r.status === "hit")).toBe(true);
    expect(reads()).toBe(1);
  });

  it("maxEntries bounds each job's copies (least recently used first); memory: false turns an instance default off", async () => {
    const h = harness({ defaults: { memory: { lifetime: 60, maxEntries: 3 } } });
    for (let i = 0; i < 5; i++) await h.cb.set(["item", i], { id: i });
    for (let i = 0; i < 5; i++) await h.cb.fetch(["item", i], source);
    const reads = countReads(h.store);
    for (const i of [2, 3, 4]) await h.cb.fetch(["item", i], source);
    expect(reads()).toBe(0); // the last three are kept
    await h.cb.fetch(["item", 0], source);
    expect(reads()).toBe(1); // item 0 was dropped
    await h.cb.fetch(["item", 4], source, { memory: false });
    expect(reads()).toBe(2);
  });

  it("a bad memory option is a CachebackOptionsError", async () => {
    const h = harness();
    await expect(h.cb.fetch("k", () => 1, { memory: { lifetime: 0 } })).rejects.toThrow(CachebackOptionsError);
    await expect(h.cb.fetch("k", () => 1, { memory: { lifetime: 1, maxEntries: 0 } })).rejects.toThrow(/maxEntries/);
    expect(() => harness({ defaults: { memory: { lifetime: -1 } } })).toThrow(/memory.lifetime/);
  });
});
