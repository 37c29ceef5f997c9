import { describe, expect, it } from "vitest";
import { KeyCache } from "../../src/core/key-cache.js";
import { CachebackKeyError } from "../../src/errors.js";
import { entryKeys, splitKey, type CacheKey } from "../../src/keys.js";

/** What the read path would work out without the cache. */
function uncached(prefix: string, key: CacheKey) {
  const { name, args } = splitKey(key);
  return { name, args, entry: entryKeys(prefix, name, args).entry, lock: entryKeys(prefix, name, args).lock };
}

describe("KeyCache: a key read before costs two lookups", () => {
  const keys: CacheKey[] = [
    "feed",
    ["feed"],
    ["post", "hello-world"],
    ["post", 'a "quoted"\nline'],
    ["post", 42],
    ["post", "42"],
    ["post", -0],
    ["post", 0],
    ["post", 1.5e300],
    ["post", true],
    ["post", null],
    ["post", "x".repeat(500)],
    ["search", { q: "a", page: 2 }],
    ["range", 1, 2],
  ];

  it("gives what splitKey and entryKeys give, the first time and every time after", () => {
    const cache = new KeyCache("app:");
    for (let round = 0; round < 3; round++) {
      for (const key of keys) {
        const got = cache.of(key);
        const want = uncached("app:", key);
        expect({ name: got.name, args: got.args, entry: got.keys.entry, lock: got.keys.lock }).toEqual(want);
      }
    }
  });

  it("keeps keys of at most one primitive argument, frozen, and works the others out each time", () => {
    const cache = new KeyCache("app:");
    const first = cache.of(["post", "hello"]);
    expect(cache.of(["post", "hello"])).toBe(first);
    expect(Object.isFrozen(first.args)).toBe(true);
    expect(cache.of("feed")).toBe(cache.of(["feed"])); // the same entry: the job name alone
    expect(cache.of(["post", 1])).not.toBe(cache.of(["post", "1"]));
    expect(Object.is(cache.of(["post", -0]).args[0], -0)).toBe(true); // not taken for 0 (a map would)
    expect(cache.of(["post", -0])).not.toBe(cache.of(["post", -0]));
    expect(cache.of(["post", 1]).keys.entry).toBe("app:entry:post:[1]");
    expect(cache.of(["post", "1"]).keys.entry).toBe('app:entry:post:["1"]');
    expect(cache.of(["search", { q: "a" }])).not.toBe(cache.of(["search", { q: "a" }]));
    expect(cache.of(["range", 1, 2])).not.toBe(cache.of(["range", 1, 2]));
    // Another instance's prefix gives other Redis keys.
    expect(new KeyCache("other:").of(["post", "hello"]).keys.entry).toBe('other:entry:post:["hello"]');
  });

  it("refuses bad keys every time, and never keeps them", () => {
    const cache = new KeyCache("app:");
    const bad: unknown[] = ["", "a\nb", [""], [7, "x"], ["post", Number.NaN], ["post", Infinity], ["post", undefined], ["post", () => 1], [], 5, null];
    for (let round = 0; round < 2; round++) {
      for (const key of bad) expect(() => cache.of(key as CacheKey), JSON.stringify(key) ?? String(key)).toThrow(CachebackKeyError);
    }
  });

  it("starts over past its size limit, and stays right", () => {
    const cache = new KeyCache("app:");
    const first = cache.of(["item", 0]);
    for (let i = 1; i <= 3000; i++) expect(cache.of(["item", i]).keys.entry).toBe(`app:entry:item:[${i}]`);
    const again = cache.of(["item", 0]);
    expect(again).not.toBe(first); // dropped when the cache started over
    expect(again.keys.entry).toBe(first.keys.entry);
  });
});
