import { MemoryStore } from "../../src/stores/memory.js";
import { runStoreSuite } from "../../src/testing.js";
import { describe, expect, it } from "vitest";

runStoreSuite("MemoryStore", () => {
  let now = 1_700_000_000_000;
  const store = new MemoryStore({ now: () => now });
  return {
    store,
    prefix: "t:",
    advance: async (ms) => {
      now += ms;
    },
  };
});

describe("MemoryStore bounds", () => {
  it("drops the least recently used keys past maxEntries", async () => {
    const store = new MemoryStore({ maxEntries: 3 });
    await store.set("a", "1", 60_000);
    await store.set("b", "2", 60_000);
    await store.set("c", "3", 60_000);
    await store.get("a"); // a is now the most recently used
    await store.set("d", "4", 60_000);
    expect(await store.get("b")).toBeNull();
    expect(store.raw("a")).toBe("1");
    expect(store.size).toBe(3);
  });
});
