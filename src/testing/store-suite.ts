import { describe, expect, it } from "vitest";
import { encodeEnvelope, toStoredEntry, type Envelope, type StoredEntry } from "../entry.js";
import type { CacheStore } from "../stores/types.js";

/** What {@link runStoreSuite} needs for each test: a store, a key prefix, and a way to let time pass. */
export interface StoreSuiteSubject {
  /** The store under test. */
  store: CacheStore;
  /** A prefix no other test uses (keys are `${prefix}name`). */
  prefix: string;
  /**
   * Moves the store's clock forward by `ms`: real waiting for a store on a server, a controlled clock
   * for one in memory.
   */
  advance: (ms: number) => Promise<void>;
}

/** The envelope a `get` must give back, or fails the test. */
function envelope(stored: StoredEntry): Envelope {
  expect(stored, "get() should return a decoded envelope").toBeTypeOf("object");
  expect(stored).not.toBeNull();
  return stored as Envelope;
}

/**
 * The conformance suite every store passes, for vitest. Call it from a test file with a function that
 * makes a fresh subject per test:
 *
 * ```ts
 * import { runStoreSuite } from "next-cacheback/testing";
 * runStoreSuite("MyStore", () => ({ store: new MyStore(client), prefix: `t:${crypto.randomUUID()}:`, advance: (ms) => sleep(ms) }));
 * ```
 */
export function runStoreSuite(label: string, make: () => StoreSuiteSubject): void {
  describe(`store conformance: ${label}`, () => {
    const entry = (version: number, value: unknown, writtenAt = version, freshUntil = writtenAt + 60_000) =>
      encodeEnvelope({ writtenAt, freshUntil, version }, JSON.stringify(value));

    it("get returns null for a missing key, and what set wrote", async () => {
      const { store, prefix } = make();
      expect(await store.get(`${prefix}missing`)).toBeNull();
      const value = { a: 1, s: "héllo ✓ 🚀" };
      await store.set(`${prefix}k`, entry(1000, value, 1000, 61_000), 60_000);
      expect(await store.get(`${prefix}k`)).toEqual({ writtenAt: 1000, freshUntil: 61_000, version: 1000, value });
    });

    it("get answers 'unreadable' for a value that is not an envelope", async () => {
      const { store, prefix } = make();
      await store.set(`${prefix}junk`, "not json at all", 60_000);
      expect(await store.get(`${prefix}junk`)).toBe("unreadable");
      await store.set(`${prefix}array`, "[1,2,3]", 60_000);
      expect(await store.get(`${prefix}array`)).toBe("unreadable");
    });

    it("getRaw, when the store has it, reads what get reads before toStoredEntry", async (ctx) => {
      const { store, prefix } = make();
      if (!store.getRaw) return ctx.skip();
      await store.set(`${prefix}k`, entry(1000, { a: 1 }), 60_000);
      await store.set(`${prefix}junk`, "not json at all", 60_000);
      await store.set(`${prefix}array`, "[1,2,3]", 60_000);
      for (const key of ["k", "junk", "array", "missing"].map((k) => `${prefix}${k}`)) {
        expect(toStoredEntry(await store.getRaw(key)), key).toEqual(await store.get(key));
      }
    });

    it("set expires after its ttl", async () => {
      const { store, prefix, advance } = make();
      await store.set(`${prefix}short`, entry(1, 1), 50);
      await advance(120);
      expect(await store.get(`${prefix}short`)).toBeNull();
    });

    it("setIfNotNewer writes over an older or equal version and refuses a newer one", async () => {
      const { store, prefix } = make();
      const key = `${prefix}cas`;
      expect(await store.setIfNotNewer(key, entry(100, "first"), 100, 60_000)).toBe(true);
      expect(await store.setIfNotNewer(key, entry(200, "second"), 200, 60_000)).toBe(true);
      expect(await store.setIfNotNewer(key, entry(150, "late"), 150, 60_000)).toBe(false);
      expect(await store.setIfNotNewer(key, entry(200, "same"), 200, 60_000)).toBe(true);
      const got = envelope(await store.get(key));
      expect(got.version).toBe(200);
      expect(got.value).toBe("same");
    });

    it("setIfNotNewer overwrites an unreadable value", async () => {
      const { store, prefix } = make();
      const key = `${prefix}garbage`;
      await store.set(key, "not json at all", 60_000);
      expect(await store.setIfNotNewer(key, entry(5, "ok"), 5, 60_000)).toBe(true);
      expect(envelope(await store.get(key)).value).toBe("ok");
    });

    it("markStale zeroes freshUntil, raises the version, keeps the value and the expiry", async () => {
      const { store, prefix, advance } = make();
      const key = `${prefix}stale`;
      const value = { nested: [1, 2, { deep: "x" }], empty: [], obj: {} };
      await store.set(key, entry(100, value, 100, 999_999), 300);
      expect(await store.markStale(key, 500)).toBe(true);
      expect(await store.get(key)).toEqual({ writtenAt: 100, freshUntil: 0, version: 500, value });
      // An older version never lowers it.
      expect(await store.markStale(key, 50)).toBe(true);
      expect(envelope(await store.get(key)).version).toBe(500);
      await advance(400);
      expect(await store.get(key)).toBeNull();
    });

    it("markStale answers false for a missing or unreadable entry", async () => {
      const { store, prefix } = make();
      expect(await store.markStale(`${prefix}nothing`, 1)).toBe(false);
      await store.set(`${prefix}junk`, "[1,2,3]", 60_000);
      expect(await store.markStale(`${prefix}junk`, 1)).toBe(false);
    });

    it("delete removes keys and ignores absent ones", async () => {
      const { store, prefix } = make();
      await store.set(`${prefix}d1`, entry(1, 1), 60_000);
      await store.set(`${prefix}d2`, entry(1, 2), 60_000);
      await store.delete(`${prefix}d1`, `${prefix}d2`, `${prefix}absent`);
      expect(await store.get(`${prefix}d1`)).toBeNull();
      expect(await store.get(`${prefix}d2`)).toBeNull();
    });

    it("a lock is held by one caller until released by its token or expired", async () => {
      const { store, prefix, advance } = make();
      const lock = `${prefix}lock`;
      expect(await store.acquireLock(lock, "a", 60_000)).toBe(true);
      expect(await store.acquireLock(lock, "b", 60_000)).toBe(false);
      expect(await store.releaseLock(lock, "b")).toBe(false);
      expect(await store.releaseLock(lock, "a")).toBe(true);
      expect(await store.acquireLock(lock, "b", 80)).toBe(true);
      await advance(150);
      expect(await store.acquireLock(lock, "c", 60_000)).toBe(true);
    });

    it("forceLock takes the lock from its holder", async () => {
      const { store, prefix } = make();
      const lock = `${prefix}force`;
      expect(await store.acquireLock(lock, "old", 60_000)).toBe(true);
      await store.forceLock(lock, "new", 60_000);
      expect(await store.releaseLock(lock, "old")).toBe(false);
      expect(await store.acquireLock(lock, "other", 60_000)).toBe(false);
      expect(await store.releaseLock(lock, "new")).toBe(true);
    });

    it("nextVersion: strictly increasing across callers, at least the floor, and reads an entry with stamps in the same call", async () => {
      const { store, prefix } = make();
      const clock = (floor: number) => ({ key: `${prefix}clock`, floor, ttlMs: 60_000 });
      const first = await store.nextVersion(clock(1000));
      expect(first.version).toBe(1000);
      const versions = await Promise.all(Array.from({ length: 20 }, () => store.nextVersion(clock(5)).then((r) => r.version)));
      expect(new Set(versions).size).toBe(20);
      for (const v of versions) expect(v).toBeGreaterThan(1000);
      expect((await store.nextVersion(clock(2_000_000))).version).toBe(2_000_000);
      expect((await store.nextVersion(clock(10))).version).toBe(2_000_001);

      await store.set(`${prefix}e`, entry(7, "x"), 60_000);
      await store.stampTags(clock(0), [`${prefix}t1`], { kind: "stale" }, 60_000);
      const read = await store.nextVersion(clock(0), { key: `${prefix}e`, stampKeys: [`${prefix}t0`, `${prefix}t1`] });
      expect(read.version).toBe(2_000_003);
      expect(envelope(read.entry).value).toBe("x");
      expect(read.stamps).toEqual([null, { stale: 2_000_002, expired: 0, laterVersion: 0, laterAt: 0, pages: 0 }]);
      const none = await store.nextVersion(clock(0), { key: `${prefix}absent`, stampKeys: [] });
      expect(none).toMatchObject({ entry: null, stamps: [] });
    });

    it("stampTags applies one change to every stamp at one new version; getWithStamps reads an entry and stamps together", async () => {
      const { store, prefix, advance } = make();
      const clock = { key: `${prefix}clock`, floor: 100, ttlMs: 60_000 };
      const [a, b] = [`${prefix}tag:a`, `${prefix}tag:b`];
      const v1 = await store.stampTags(clock, [a, b], { kind: "stale" }, 60_000);
      expect(v1).toBe(100);
      const v2 = await store.stampTags(clock, [b], { kind: "expire" }, 60_000);
      expect(v2).toBe(101);
      const v3 = await store.stampTags(clock, [a], { kind: "stale", expireAt: 1_700_000_000_000 }, 200);
      const v4 = await store.stampTags(clock, [b], { kind: "pages" }, 60_000);
      expect(await store.getStamps([a, b, `${prefix}tag:none`])).toEqual([
        { stale: v3, expired: 0, laterVersion: v3, laterAt: 1_700_000_000_000, pages: 0 },
        { stale: v1, expired: v2, laterVersion: 0, laterAt: 0, pages: v4 },
        null,
      ]);
      await store.set(`${prefix}e`, entry(50, { n: 1 }, 50, 99), 60_000);
      const read = await store.getWithStamps(`${prefix}e`, [b, `${prefix}tag:none`]);
      expect(read).toEqual({
        entry: { writtenAt: 50, freshUntil: 99, version: 50, value: { n: 1 } },
        stamps: [{ stale: v1, expired: v2, laterVersion: 0, laterAt: 0, pages: v4 }, null],
      });
      expect(await store.getWithStamps(`${prefix}absent`, [])).toEqual({ entry: null, stamps: [] });
      // Each stamp lives the ttl of its last change; a stamp of the first format (four fields) still reads.
      await advance(400);
      expect(await store.getStamps([a, b])).toEqual([null, { stale: v1, expired: v2, laterVersion: 0, laterAt: 0, pages: v4 }]);
      await store.set(`${prefix}tag:old`, "[5,6,7,8]", 60_000);
      const v5 = await store.stampTags(clock, [`${prefix}tag:old`], { kind: "pages" }, 60_000);
      expect(await store.getStamps([`${prefix}tag:old`])).toEqual([{ stale: 5, expired: 6, laterVersion: 7, laterAt: 8, pages: v5 }]);
    });

    it("a tagged entry keeps its tags through markStale", async () => {
      const { store, prefix } = make();
      const key = `${prefix}tagged`;
      await store.set(key, encodeEnvelope({ writtenAt: 1, freshUntil: 2, version: 3 }, JSON.stringify("v"), ["a", "caf%C3%A9"]), 60_000);
      expect(await store.markStale(key, 9)).toBe(true);
      expect(await store.get(key)).toEqual({ writtenAt: 1, freshUntil: 0, version: 9, value: "v", tags: ["a", "caf%C3%A9"] });
    });

    it("of many concurrent acquirers exactly one wins", async () => {
      const { store, prefix } = make();
      const lock = `${prefix}race`;
      const wins = await Promise.all(Array.from({ length: 50 }, (_, i) => store.acquireLock(lock, `t${i}`, 60_000)));
      expect(wins.filter(Boolean)).toHaveLength(1);
    });
  });
}
