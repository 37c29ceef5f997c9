import { describe, expect, it } from "vitest";
import type { StoredHandlerEntry } from "../../src/cache-handler/format.js";
import { handlerKeys, sharedKeys } from "../../src/cache-handler/keys.js";
import type { HandlerStore, ReadRequest, WriteRequest } from "../../src/cache-handler/store.js";
import type { StampChange } from "../../src/tags/stamps.js";

/** What {@link runHandlerStoreSuite} needs per test. */
export interface HandlerStoreSubject {
  store: HandlerStore;
  /** A prefix no other test uses. */
  prefix: string;
  /** Lets the store's own clock (key expiry) move by `ms`: real waiting on a server. */
  advance: (ms: number) => Promise<void>;
  /** Writes a raw value under a key (a value that is not an entry), when the store can. */
  writeRaw?: (key: string, value: string) => Promise<void>;
}

const T0 = 1_700_000_000_000;
const BYTES = new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0x0a, 0x0d, 0x22, 0x5c]);

/**
 * The decisions every handler store makes alike (the Lua scripts and `judgeEntry`), on explicit times:
 * `nowMs` is passed in, so only key expiry needs the store's clock.
 */
export function runHandlerStoreSuite(label: string, make: () => HandlerStoreSubject): void {
  describe(`handler store conformance: ${label}`, () => {
    const setup = () => {
      const subject = make();
      const { store, prefix } = subject;
      const { clock, tagPrefix } = sharedKeys(prefix);
      let floor = 1;
      const clockReq = () => ({ key: clock, floor: floor++, ttlMs: 60_000 });
      const keysOf = (name: string) => handlerKeys(prefix, name);
      const read = (name: string, nowMs: number, extra: Partial<ReadRequest> = {}) =>
        store.read({ keys: keysOf(name), clock: clockReq(), tagPrefix, softTags: [], nowMs, minExpireS: 0, lock: { token: "tok-a", ttlMs: 60_000 }, ...extra });
      const entry = (over: Partial<Omit<StoredHandlerEntry, "version">> = {}): Omit<StoredHandlerEntry, "version"> => ({
        timestamp: T0,
        revalidate: 60,
        expire: 3600,
        stale: 30,
        tags: [],
        value: BYTES,
        ...over,
      });
      const write = (name: string, e: Omit<StoredHandlerEntry, "version">, version: number | undefined, extra: Partial<WriteRequest> = {}) =>
        store.write({ keys: keysOf(name), clock: clockReq(), entry: e, version, capVersion: Number.MAX_SAFE_INTEGER, ttlMs: 60_000, lockToken: undefined, evict: false, ...extra });
      const stamp = (changes: [string, StampChange][], atLeast?: number) =>
        store.stamp({ ...clockReq(), floor: atLeast ?? 100 + floor++ }, changes.map(([tag, change]) => ({ key: tagPrefix + tag, change })), 60_000);
      return { ...subject, read, write, entry, stamp, keysOf };
    };

    it("absent, then fresh with its bytes (not valid UTF-8), tags and metadata as written", async () => {
      const { read, write, entry } = setup();
      expect(await read("k", T0)).toMatchObject({ state: "absent", entry: null, locked: false });
      expect(await write("k", entry({ tags: ["posts", "caf%C3%A9", "a b\tc"] }), 10)).toEqual({ written: true, version: 10 });
      const found = await read("k", T0 + 1000);
      expect(found).toMatchObject({ state: "fresh", locked: false });
      expect(found.entry).toMatchObject({ version: 10, timestamp: T0, revalidate: 60, expire: 3600, stale: 30, tags: ["posts", "caf%C3%A9", "a b\tc"] });
      expect([...found.entry!.value]).toEqual([...BYTES]);
    });

    it("fractional timestamps and an empty value survive", async () => {
      const { read, write, entry } = setup();
      await write("k", entry({ timestamp: T0 + 0.375, value: new Uint8Array(0) }), 10);
      const found = await read("k", T0 + 1);
      expect(found.entry).toMatchObject({ timestamp: T0 + 0.375 });
      expect(found.entry!.value.byteLength).toBe(0);
    });

    it("past revalidate: stale, and only the first reader takes the lock; a write with the token releases it", async () => {
      const { read, write, entry } = setup();
      await write("k", entry(), 10);
      const first = await read("k", T0 + 61_000, { lock: { token: "tok-a", ttlMs: 60_000 } });
      const second = await read("k", T0 + 61_000, { lock: { token: "tok-b", ttlMs: 60_000 } });
      expect(first).toMatchObject({ state: "stale", locked: true });
      expect(second).toMatchObject({ state: "stale", locked: false });
      expect(first.tag).toBeUndefined();
      await write("k", entry({ timestamp: T0 }), 20, { lockToken: "tok-b" }); // not the holder: the lock stays
      expect(await read("k", T0 + 61_000, { lock: { token: "tok-c", ttlMs: 60_000 } })).toMatchObject({ locked: false });
      await write("k", entry({ timestamp: T0 }), 30, { lockToken: "tok-a" });
      expect(await read("k", T0 + 61_000, { lock: { token: "tok-d", ttlMs: 60_000 } })).toMatchObject({ state: "stale", locked: true });
    });

    it("the lock expires after its ttl", async () => {
      const { read, write, entry, advance } = setup();
      await write("k", entry(), 10);
      expect(await read("k", T0 + 61_000, { lock: { token: "a", ttlMs: 50 } })).toMatchObject({ locked: true });
      expect(await read("k", T0 + 61_000, { lock: { token: "b", ttlMs: 50 } })).toMatchObject({ locked: false });
      await advance(120);
      expect(await read("k", T0 + 61_000, { lock: { token: "c", ttlMs: 50 } })).toMatchObject({ locked: true });
    });

    it("past expire: a miss (at least minExpireS); a negative expire: evicted", async () => {
      const { read, write, entry } = setup();
      await write("k", entry({ expire: 120 }), 10);
      expect(await read("k", T0 + 120_000)).toMatchObject({ state: "stale" });
      expect(await read("k", T0 + 120_001)).toMatchObject({ state: "expired", entry: null });
      expect(await read("k", T0 + 120_001, { minExpireS: 300 })).toMatchObject({ state: "stale" });
      await write("gone", entry({ expire: -1 }), 10);
      expect(await read("gone", T0)).toMatchObject({ state: "evicted", entry: null });
    });

    it("evict removes the entry and releases the lock", async () => {
      const { read, write, entry } = setup();
      await write("k", entry(), 10);
      expect(await read("k", T0 + 61_000)).toMatchObject({ locked: true });
      expect(await write("k", entry(), undefined, { evict: true, lockToken: "tok-a" })).toMatchObject({ written: false });
      expect(await read("k", T0)).toMatchObject({ state: "absent" });
    });

    it("tag stamps newer than the entry: expire (miss), stale, pages (stale), stale with an expiry instant", async () => {
      const { read, write, entry, stamp } = setup();
      for (const name of ["a", "b", "c", "d", "e", "f"]) await write(name, entry({ tags: ["x", `tag-${name}`] }), 10);
      await stamp([
        ["tag-a", { kind: "expire" }],
        ["tag-b", { kind: "stale" }],
        ["tag-c", { kind: "pages" }],
        ["tag-d", { kind: "stale", expireAt: T0 + 5000 }],
        ["tag-e", { kind: "stale", expireAt: T0 + 5000 }],
      ]);
      expect(await read("a", T0)).toMatchObject({ state: "tag-expired", tag: "tag-a", entry: null });
      expect(await read("b", T0)).toMatchObject({ state: "stale", tag: "tag-b", locked: true });
      expect(await read("c", T0)).toMatchObject({ state: "stale", tag: "tag-c" });
      expect(await read("d", T0 + 4999)).toMatchObject({ state: "stale", tag: "tag-d" });
      expect(await read("e", T0 + 5000)).toMatchObject({ state: "tag-expired", tag: "tag-e" });
      expect(await read("f", T0)).toMatchObject({ state: "fresh" });
    });

    it("soft tags are checked like the entry's own; expired wins over stale", async () => {
      const { read, write, entry, stamp } = setup();
      await write("k", entry({ tags: ["own"] }), 10);
      await stamp([["own", { kind: "stale" }], ["_N_T_/posts", { kind: "expire" }], ["_N_T_/layout", { kind: "stale" }]]);
      expect(await read("k", T0, { softTags: ["_N_T_/layout"] })).toMatchObject({ state: "stale", tag: "own" });
      expect(await read("k", T0, { softTags: ["_N_T_/layout", "_N_T_/posts"] })).toMatchObject({ state: "tag-expired", tag: "_N_T_/posts" });
    });

    it("a read's version orders it against stamps: stamps before it are not newer, stamps after it are", async () => {
      const { read, write, entry, stamp } = setup();
      const before = await stamp([["t", { kind: "expire" }]]);
      const seen = (await read("k", T0)).version;
      expect(seen).toBeGreaterThanOrEqual(before);
      await write("k", entry({ tags: ["t"] }), seen);
      expect(await read("k", T0)).toMatchObject({ state: "fresh" });
      const after = await stamp([["t", { kind: "stale" }]]);
      expect(after).toBeGreaterThan(seen);
      expect(await read("k", T0)).toMatchObject({ state: "stale", tag: "t" });
    });

    it("a write never replaces a newer entry; without a version it takes the clock's, capped", async () => {
      const { read, write, entry, stamp } = setup();
      expect(await stamp([["elsewhere", { kind: "stale" }]], 1000)).toBe(1000);
      await write("k", entry({ stale: 1 }), 50);
      expect(await write("k", entry({ stale: 2 }), 40)).toEqual({ written: false, version: 40 });
      expect((await read("k", T0)).entry).toMatchObject({ version: 50, stale: 1 });
      expect(await write("k", entry({ stale: 3 }), undefined, { capVersion: 60 })).toEqual({ written: true, version: 60 });
      expect((await read("k", T0)).entry).toMatchObject({ version: 60, stale: 3 });
      expect(await write("k", entry({ stale: 4 }), undefined, { capVersion: 5000 })).toMatchObject({ written: true });
      expect((await read("k", T0)).entry!.version).toBeLessThan(5000);
      expect((await read("k", T0)).entry!.version).toBeGreaterThanOrEqual(1000);
    });

    it("an entry expires after its ttl", async () => {
      const { read, write, entry, advance } = setup();
      await write("k", entry(), 10, { ttlMs: 50 });
      await advance(120);
      expect(await read("k", T0)).toMatchObject({ state: "absent" });
    });

    it("a value that is not an entry reads as unreadable and is replaced by the next write", async (context) => {
      const { read, write, entry, writeRaw, keysOf } = setup();
      if (!writeRaw) return context.skip();
      await writeRaw(keysOf("k").entry, '{"not":"an entry"}');
      expect(await read("k", T0)).toMatchObject({ state: "unreadable", entry: null });
      expect(await write("k", entry(), 10)).toMatchObject({ written: true });
      expect(await read("k", T0)).toMatchObject({ state: "fresh" });
    });
  });
}
