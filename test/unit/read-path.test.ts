import { describe, expect, it, vi } from "vitest";
import { CachebackSerializationError } from "../../src/errors.js";
import { harness } from "../helpers/harness.js";

describe("read path", () => {
  it("miss with fetchOnMiss (default): calls fn once, stores, returns; then a fresh hit does not call fn", async () => {
    const h = harness();
    const fn = vi.fn(async (id: number) => ({ id, name: `item ${id}` }));
    const first = await h.cb.fetchWithStatus(["item", 7], fn, { lifetime: 60 });
    expect(first).toMatchObject({ value: { id: 7, name: "item 7" }, status: "miss", syncFetch: true, age: 0 });
    await h.settle();
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith(7);

    h.advance(30);
    const second = await h.cb.fetchWithStatus(["item", 7], fn, { lifetime: 60 });
    expect(second).toMatchObject({ value: { id: 7, name: "item 7" }, status: "hit", syncFetch: false, age: 30 });
    expect(fn).toHaveBeenCalledTimes(1);
    await h.settle();
    expect(h.queue.published).toHaveLength(0);
    expect(h.eventTypes()).toEqual(["miss", "refresh-done", "hit"]);
  });

  it("a fresh hit costs exactly one store call", async () => {
    const h = harness();
    await h.cb.fetch("homepage", () => "v1", { lifetime: 60 });
    await h.settle();
    const calls: string[] = [];
    for (const method of ["get", "set", "setIfNotNewer", "markStale", "delete", "acquireLock", "forceLock", "releaseLock"] as const) {
      const original = h.store[method].bind(h.store) as (...a: unknown[]) => Promise<unknown>;
      (h.store as unknown as Record<string, unknown>)[method] = (...a: unknown[]) => {
        calls.push(method);
        return original(...a);
      };
    }
    expect(await h.cb.fetch("homepage", () => "never", { lifetime: 60 })).toBe("v1");
    await h.settle();
    expect(calls).toEqual(["get"]);
  });

  it("a store whose get throws instead of rejecting fails open: the read is served from fn and the error reported", async () => {
    const h = harness();
    const errors: string[] = [];
    h.cb.on("error", (e) => errors.push(`${e.operation}: ${String(e.error)}`));
    h.store.get = () => {
      throw new Error("store broke");
    };
    const result = await h.cb.fetchWithStatus("homepage", () => "from source", { lifetime: 60 });
    expect(result).toMatchObject({ value: "from source", status: "miss", reason: "store-error", syncFetch: true });
    expect(errors).toContain("read: Error: store broke");
  });

  it("stale: returns the old value at once and queues exactly one refresh per lock window", async () => {
    const h = harness();
    await h.cb.fetch(["quote", "ACME"], (s: string) => `${s}@1`, { lifetime: 10, refreshTimeout: 30 });
    await h.settle();
    h.advance(11);
    const fn = vi.fn((s: string) => `${s}@2`);
    const reads = await Promise.all(Array.from({ length: 100 }, () => h.cb.fetchWithStatus(["quote", "ACME"], fn, { lifetime: 10, refreshTimeout: 30 })));
    for (const r of reads) expect(r).toMatchObject({ value: "ACME@1", status: "stale", syncFetch: false, refreshScheduled: true });
    await h.settle();
    expect(fn).not.toHaveBeenCalled();
    expect(h.queue.published).toHaveLength(1);
    const { message, url, deduplicationId } = h.queue.published[0]!;
    expect(url).toBe("https://app.example/api/cacheback");
    expect(message).toMatchObject({ v: 1, job: "quote", args: ["ACME"], options: { lifetime: 10, refreshTimeout: 30, ttl: 2592000 } });
    expect(deduplicationId).toBe(`cacheback-${message.lock}`);

    // Still inside the lock window: no second message.
    h.advance(20);
    await h.cb.fetch(["quote", "ACME"], fn, { lifetime: 10, refreshTimeout: 30 });
    await h.settle();
    expect(h.queue.published).toHaveLength(1);

    // Past the window (the refresh never came): a later read queues again, under a new lock.
    h.advance(11);
    await h.cb.fetch(["quote", "ACME"], fn, { lifetime: 10, refreshTimeout: 30 });
    await h.settle();
    expect(h.queue.published).toHaveLength(2);
    expect(h.queue.published[1]!.deduplicationId).not.toBe(deduplicationId);
  });

  it("too stale (past fetchOnStaleThreshold): refreshes synchronously and returns the new value", async () => {
    const h = harness();
    await h.cb.fetch("report", () => "old", { lifetime: 10, fetchOnStaleThreshold: 60 });
    await h.settle();
    h.advance(30);
    expect(await h.cb.fetchWithStatus("report", () => "new", { lifetime: 10, fetchOnStaleThreshold: 60 })).toMatchObject({
      value: "old",
      status: "stale",
      syncFetch: false,
    });
    await h.settle();
    h.advance(31); // age 61 s > 60 s
    expect(await h.cb.fetchWithStatus("report", () => "new", { lifetime: 10, fetchOnStaleThreshold: 60 })).toMatchObject({
      value: "new",
      status: "stale",
      syncFetch: true,
      age: 0,
    });
    await h.settle();
    expect(await h.cb.fetchWithStatus("report", () => "newer", { lifetime: 10, fetchOnStaleThreshold: 60 })).toMatchObject({ value: "new", status: "hit" });
  });

  it("too stale and the source fails: serves the old value and queues a refresh instead of throwing", async () => {
    const h = harness();
    await h.cb.fetch("report", () => "old", { lifetime: 1, fetchOnStaleThreshold: 5 });
    await h.settle();
    h.advance(10);
    const r = await h.cb.fetchWithStatus("report", () => Promise.reject(new Error("source down")), { lifetime: 1, fetchOnStaleThreshold: 5 });
    expect(r).toMatchObject({ value: "old", status: "stale", syncFetch: false, refreshScheduled: true });
    await h.settle();
    expect(h.queue.published).toHaveLength(1);
    expect(h.eventTypes()).toContain("refresh-failed");
  });

  it("miss with fetchOnMiss: true calls fn once per key however many readers arrive together", async () => {
    const h = harness();
    let release!: (v: string) => void;
    const fn = vi.fn(() => new Promise<string>((r) => (release = r)));
    const readers = Array.from({ length: 500 }, () => h.cb.fetch("cold", fn));
    await vi.waitFor(() => expect(fn).toHaveBeenCalled());
    release("value");
    expect(new Set(await Promise.all(readers))).toEqual(new Set(["value"]));
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("miss with fetchOnMiss: false returns empty at once and queues a refresh under the lock", async () => {
    const h = harness();
    const fn = vi.fn(() => ["x"]);
    const r1 = await h.cb.fetchWithStatus(["feed", 1], fn, { fetchOnMiss: false });
    expect(r1).toMatchObject({ value: null, status: "miss", syncFetch: false, age: null, refreshScheduled: true });
    const r2 = await h.cb.fetch(["feed", 1], fn, { fetchOnMiss: false, empty: [] as string[] });
    expect(r2).toEqual([]);
    await h.settle();
    expect(fn).not.toHaveBeenCalled();
    expect(h.queue.published).toHaveLength(1);
    expect(h.queue.published[0]!.message).toMatchObject({ job: "feed", args: [1] });
  });

  it("a corrupt entry is a miss, never an error, and the next write replaces it", async () => {
    const h = harness();
    const key = h.cb.key(["item", 1]);
    await h.store.set(key, "{not json", 60_000);
    expect(await h.cb.fetchWithStatus(["item", 1], (n: number) => n * 10)).toMatchObject({ value: 10, status: "miss", syncFetch: true });
    await h.settle();
    expect((await h.cb.peek(["item", 1])).value).toBe(10);

    await h.store.set(key, JSON.stringify({ writtenAt: "yesterday", value: 1 }), 60_000);
    expect(await h.cb.fetchWithStatus(["item", 1], (n: number) => n * 20)).toMatchObject({ value: 20, status: "miss" });
  });

  it("refuses a value JSON cannot carry, naming the key and the path", async () => {
    const h = harness();
    await expect(h.cb.fetch(["user", 3], () => ({ name: "Ada", joined: new Date(0) }))).rejects.toThrow(CachebackSerializationError);
    await expect(h.cb.fetch(["user", 3], () => ({ name: "Ada", joined: new Date(0) }))).rejects.toThrow(
      /Cannot cache the value of "cacheback:entry:user:\[3\]": \$\.joined is a Date/,
    );
    await expect(h.cb.fetch("big", () => 10n)).rejects.toThrow(/\$ is a BigInt/);
    await expect(h.cb.fetch("map", () => ({ m: new Map() }))).rejects.toThrow(/\$\.m is a Map/);
    await expect(h.cb.fetch("fn", () => ({ f: () => 1 }))).rejects.toThrow(/\$\.f is a function/);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    await expect(h.cb.fetch("cycle", () => cyclic)).rejects.toThrow(/\$\.self is a reference cycle/);
    await expect(h.cb.fetch("nan", () => [1, Number.NaN])).rejects.toThrow(/\$\[1\] is NaN/);
    expect((await h.cb.peek(["user", 3])).status).toBe("miss");
  });

  it("a serializer option that handles the value stores it", async () => {
    const h = harness();
    const dateSerializer = {
      serialize: (v: { at: Date }) => ({ at: v.at.toISOString() }),
      deserialize: (d: unknown) => ({ at: new Date((d as { at: string }).at) }),
    };
    await h.cb.fetch("when", () => ({ at: new Date(86_400_000) }), { serializer: dateSerializer });
    await h.settle();
    const again = await h.cb.fetch("when", () => ({ at: new Date(0) }), { serializer: dateSerializer });
    expect(again.at).toBeInstanceOf(Date);
    expect(again.at.toISOString()).toBe("1970-01-02T00:00:00.000Z");
  });

  it("lifetime counts from the write, not from the start of the fetch", async () => {
    const h = harness();
    await h.cb.fetch("slow", async () => {
      h.advance(5); // the fetch takes 5 s
      return "v";
    }, { lifetime: 10 });
    await h.settle();
    h.advance(9);
    expect((await h.cb.fetchWithStatus("slow", () => "x", { lifetime: 10 })).status).toBe("hit");
    h.advance(2);
    expect((await h.cb.fetchWithStatus("slow", () => "x", { lifetime: 10 })).status).toBe("stale");
  });

  it("the entry is gone after ttl: a miss", async () => {
    const h = harness();
    await h.cb.fetch("t", () => 1, { lifetime: 10, ttl: 100 });
    await h.settle();
    h.advance(101);
    expect(await h.cb.fetchWithStatus("t", () => 2, { lifetime: 10, ttl: 100 })).toMatchObject({ value: 2, status: "miss" });
  });
});

describe("verbs", () => {
  it("invalidate marks the entry stale and queues a refresh even while a refresh lock is held", async () => {
    const h = harness();
    await h.cb.fetch(["item", 1], (n: number) => `v${n}`, { lifetime: 60 });
    await h.settle();
    h.advance(61);
    await h.cb.fetch(["item", 1], (n: number) => `v${n}`, { lifetime: 60 }); // stale: takes the lock
    await h.settle();
    expect(h.queue.published).toHaveLength(1);

    h.advance(1);
    const result = await h.cb.invalidate(["item", 1], { lifetime: 60 });
    expect(result).toEqual({ marked: true, messageId: "msg_2" });
    expect(h.queue.published).toHaveLength(2);
    expect(h.queue.published[1]!.deduplicationId).not.toBe(h.queue.published[0]!.deduplicationId);
    const peek = await h.cb.peek(["item", 1]);
    expect(peek).toMatchObject({ status: "stale", value: "v1", freshUntil: 0 });
  });

  it("invalidate of a missing entry still queues a refresh", async () => {
    const h = harness();
    expect(await h.cb.invalidate("nothing")).toEqual({ marked: false, messageId: "msg_1" });
  });

  it("delete removes the entry and its lock; set writes a fresh value; peek has no side effects", async () => {
    const h = harness();
    await h.cb.set(["item", 2], { n: 2 }, { lifetime: 30 });
    h.advance(10);
    expect(await h.cb.peek(["item", 2])).toMatchObject({ status: "hit", value: { n: 2 }, age: 10, corrupt: false });
    h.advance(25);
    const before = h.events.length;
    expect(await h.cb.peek(["item", 2])).toMatchObject({ status: "stale", value: { n: 2 }, age: 35 });
    await h.settle();
    expect(h.queue.published).toHaveLength(0);
    expect(h.events.length).toBe(before);
    await h.cb.delete(["item", 2]);
    expect(await h.cb.peek(["item", 2])).toMatchObject({ status: "miss", value: undefined, age: null, corrupt: false });
  });

  it("peek reports a corrupt entry", async () => {
    const h = harness();
    await h.store.set(h.cb.key("x"), "garbage", 60_000);
    expect(await h.cb.peek("x")).toMatchObject({ status: "miss", corrupt: true });
  });
});

describe("keys and options", () => {
  it("keys are stable: object argument order does not matter; long arguments are hashed", () => {
    const h = harness();
    expect(h.cb.key(["q", { b: 1, a: 2 }])).toBe(h.cb.key(["q", { a: 2, b: 1 }]));
    expect(h.cb.key(["q", { a: 2, b: 1 }])).toBe('cacheback:entry:q:[{"a":2,"b":1}]');
    expect(h.cb.key("home")).toBe("cacheback:entry:home");
    expect(h.cb.key(["home"])).toBe("cacheback:entry:home");
    expect(h.cb.key(["q", "x".repeat(500)])).toMatch(/^cacheback:entry:q:#[0-9a-f]{64}$/);
  });

  it("bad keys and options get clear errors", async () => {
    const h = harness();
    await expect(h.cb.fetch("", () => 1)).rejects.toThrow(/non-empty job name/);
    await expect(h.cb.fetch("a\nb", () => 1)).rejects.toThrow(/control character/);
    for (const c of ["\u0000", "\u001f", "\u007f"]) await expect(h.cb.fetch(`job${c}`, () => 1)).rejects.toThrow(/control character/);
    expect(await h.cb.fetch("job\u0080\u2028ü", () => 1)).toBe(1);
    await expect(h.cb.fetch(["a", new Date()] as never, () => 1)).rejects.toThrow(/must be plain JSON/);
    await expect(h.cb.fetch("a", () => 1, { lifetime: -1 })).rejects.toThrow(/lifetime must be a non-negative/);
    await expect(h.cb.fetch("a", () => 1, { lifetime: 100, ttl: 10 })).rejects.toThrow(/ttl \(10 s\) must be at least lifetime/);
    await expect(h.cb.fetch("a", () => 1, { refreshTimeout: 0 })).rejects.toThrow(/refreshTimeout must be a positive/);
  });
});

describe("invalidate keeps the entry's lifetime", () => {
  it("a plain-key invalidate without options refreshes with the lifetime the entry was written with", async () => {
    const h = harness();
    await h.cb.fetch("headline", () => "v1", { lifetime: 10 });
    await h.settle();
    await h.cb.invalidate("headline");
    expect(h.queue.published.at(-1)!.message.options.lifetime).toBe(10);
    await h.cb.invalidate("headline", { lifetime: 30 });
    expect(h.queue.published.at(-1)!.message.options.lifetime).toBe(30);
  });
});

describe("stale reads while a refresh is on its way", () => {
  it("cost one GET each: a process tries the refresh lock once, not on every stale read", async () => {
    const h = harness();
    await h.cb.fetch("feed", () => "v1", { lifetime: 10 });
    await h.settle();
    h.advance(11);
    let lockAttempts = 0;
    const acquire = h.store.acquireLock.bind(h.store);
    h.store.acquireLock = (...a) => {
      lockAttempts++;
      return acquire(...a);
    };
    for (let i = 0; i < 50; i++) {
      const r = await h.cb.fetchWithStatus("feed", () => "v2", { lifetime: 10 });
      expect(r).toMatchObject({ value: "v1", status: "stale", refreshScheduled: true });
    }
    await h.settle();
    expect(lockAttempts).toBe(1);
    expect(h.queue.published).toHaveLength(1);

    // A little later (the refresh has not landed yet), one more attempt; it loses to the held lock.
    h.advance(3);
    await h.cb.fetch("feed", () => "v2", { lifetime: 10 });
    await h.settle();
    expect(lockAttempts).toBe(2);
    expect(h.queue.published).toHaveLength(1);
  });

  it("with queueFallback off, a failed publish releases the lock: the next read past the back-off publishes", async () => {
    const h = harness({ queueFallback: false });
    await h.cb.set("feed", "v1", { lifetime: 0 });
    h.queue.failNext = 1;
    await (await h.cb.fetchWithStatus("feed", () => "v2")).background;
    expect(h.queue.published).toHaveLength(0);
    h.advance(1); // the first back-off interval
    await (await h.cb.fetchWithStatus("feed", () => "v2")).background;
    expect(h.queue.published).toHaveLength(1);
    expect((await h.cb.peek("feed")).value).toBe("v1");
  });
});

describe("key ids of primitive arguments", () => {
  it("equal the canonical JSON of the arguments", async () => {
    const { canonicalJson, entryId } = await import("../../src/keys.js");
    const cases: unknown[][] = [[1], ["a\"b\n", 2.5, -0, 1e21, true, null], ["ü🚀", false], [0, "0"]];
    for (const args of cases) expect(entryId("j", args)).toBe(`j:${canonicalJson(args)}`);
  });

  it("quote every string as JSON.stringify does, whatever characters it holds", async () => {
    const { canonicalJson, entryId } = await import("../../src/keys.js");
    // Each character that JSON escapes or that the quick path must leave to JSON.stringify, alone and amid plain text.
    const chars = ['"', "\\", "\u0000", "\u001f", "\u007f", "\u2028", "\ud83d", "\ude80", "\ud83d\ude80", "/", "é", "\t", " "];
    for (const c of chars) {
      for (const s of [c, `id-${c}`, `${c}-id`, `a${c}b${c}`]) {
        expect(entryId("j", [s])).toBe(`j:${canonicalJson([s])}`);
        expect(entryId("j", [s, s])).toBe(`j:${JSON.stringify([s, s])}`);
      }
    }
    expect(entryId("j", ["post-42", ""])).toBe('j:["post-42",""]');
  });
});
