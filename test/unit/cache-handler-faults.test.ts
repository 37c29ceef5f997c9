import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MemoryStore } from "../../src/stores/memory.js";
import { BINARY, entryOf, handlerHarness } from "../helpers/handler-harness.js";
import { watchUnhandledRejections, type UnhandledWatch } from "../helpers/unhandled.js";

// Redis down or slow, simulated on the memory store (its methods reject or never answer). Timers are
// fake: the read and write timeouts pass without waiting.

let unhandled: UnhandledWatch;
let logged: { mock: { calls: unknown[][] } };

beforeEach(() => {
  unhandled = watchUnhandledRejections();
  logged = vi.spyOn(console, "error").mockImplementation(() => {});
});

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await new Promise((r) => setImmediate(r));
  unhandled.dispose();
  expect(unhandled.seen).toEqual([]);
});

const METHODS = ["nextVersion", "getStamps", "stampTags", "acquireLock", "releaseLock"] as const;

/** A store whose every method fails (`down`) or never answers (`slow`) until `heal()`. */
function faulty(mode: "down" | "slow") {
  const store = new MemoryStore({ now: () => 1_700_000_000_000 });
  const spies = METHODS.map((m) =>
    vi.spyOn(store, m).mockImplementation((() => (mode === "down" ? Promise.reject(new Error("ECONNREFUSED")) : new Promise(() => {}))) as never),
  );
  return { store, heal: () => spies.forEach((s) => s.mockRestore()) };
}

const outageLines = () => logged.mock.calls.filter((c: unknown[]) => String(c[0]).includes("Redis failed")).length;

describe("cache handler: Redis down", () => {
  it("get answers a miss and set resolves, both reported; one log line per outage window", async () => {
    const { store, heal } = faulty("down");
    const h = handlerHarness({ store });
    expect(await h.handler.get("k", [])).toBeUndefined();
    expect(h.events.slice(-2)).toEqual([
      { type: "error", operation: "get", key: "k", error: expect.objectContaining({ message: "ECONNREFUSED" }) },
      { type: "miss", key: "k", reason: "store-error" },
    ]);
    await expect(h.put("k")).resolves.toBeUndefined();
    expect(h.last("error")).toMatchObject({ operation: "set", key: "k" });
    await h.handler.get("j", []);
    await h.put("j");
    expect(outageLines()).toBe(1);
    expect(String(logged.mock.calls[0]![0])).toMatch(/cache handler: Redis failed during get \(Error: ECONNREFUSED\)/);

    heal();
    await h.put("k");
    expect(h.last("set")).toMatchObject({ key: "k", written: true });
    expect(await h.handler.get("k", [])).toBeDefined();
    vi.spyOn(store, "nextVersion").mockRejectedValue(new Error("down again"));
    await h.handler.get("k", []);
    expect(outageLines()).toBe(2); // a new window
  });

  it("updateTags rejects with a CachebackStoreError (the invalidation did not happen), after the event and the log line", async () => {
    const { store } = faulty("down");
    const h = handlerHarness({ store });
    await expect(h.handler.updateTags(["posts", "feed"], { expire: 60 })).rejects.toMatchObject({
      name: "CachebackStoreError",
      message: expect.stringMatching(/^updateTags\("posts", "feed"\) failed: Error: ECONNREFUSED/),
    });
    expect(h.last("error")).toMatchObject({ operation: "updateTags", tags: ["posts", "feed"] });
    expect(outageLines()).toBe(1);
  });
});

describe("cache handler: Redis slow", () => {
  it("get answers a miss within readTimeout; a late answer is ignored", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { store } = faulty("slow");
    const h = handlerHarness({ store, readTimeout: 0.5 });
    let answer: unknown = "pending";
    const getting = h.handler.get("k", []).then((e) => (answer = e));
    await vi.advanceTimersByTimeAsync(499);
    expect(answer).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    await getting;
    expect(answer).toBeUndefined();
    expect(h.last("error")).toMatchObject({ operation: "get", error: expect.objectContaining({ name: "CachebackTimeoutError" }) });
  });

  it("a get waiting on a pending set of its key still answers within readTimeout", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const h = handlerHarness({ readTimeout: 1 });
    void h.handler.set("k", new Promise(() => {})); // a render that never finishes
    let answer: unknown = "pending";
    const getting = h.handler.get("k", []).then((e) => (answer = e));
    await vi.advanceTimersByTimeAsync(1000);
    await getting;
    expect(answer).toBeUndefined();
  });

  it("set and updateTags give up after writeTimeout: set resolves, updateTags rejects; both reported", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { store } = faulty("slow");
    const h = handlerHarness({ store, writeTimeout: 2 });
    const setting = h.handler.set("k", Promise.resolve(entryOf(BINARY, { timestamp: h.clock.now })));
    const updating = h.handler.updateTags(["posts"]).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(2000);
    await expect(setting).resolves.toBeUndefined();
    expect(await updating).toMatchObject({ name: "CachebackStoreError" });
    expect(h.events.filter((e) => e.type === "error").map((e) => (e as { operation: string }).operation).sort()).toEqual(["set", "updateTags"]);
  });
});
