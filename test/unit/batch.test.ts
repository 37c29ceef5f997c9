import { afterEach, describe, expect, it, vi } from "vitest";
import { packMessages } from "../../src/core/batch.js";
import type { Dispatch } from "../../src/core/request.js";
import { entryKeys } from "../../src/keys.js";
import { buildRefreshMessage, type RefreshBatch, type RefreshMessage } from "../../src/message.js";
import { resolveRefreshOptions } from "../../src/options.js";
import { createRefreshHandler } from "../../src/route/handler.js";
import { harness } from "../helpers/harness.js";
import { REFRESH_URL, TEST_KEYS, signedRequest } from "../helpers/signed-request.js";

afterEach(() => {
  vi.useRealTimers();
});

const OPTIONS = resolveRefreshOptions({ lifetime: 60 });
const dispatch = (i: number, extra = ""): Dispatch => ({
  request: { keys: entryKeys("p:", "item", [i]), job: "item", args: [i, extra], options: OPTIONS, tags: [] },
  token: `tok-${i}`,
  queuedAt: 1_700_000_000_000,
  reason: "stale",
});

describe("one message for many refreshes: packing", () => {
  it("one refresh goes in the single-refresh format; several go as one batch, each with its own lock token", () => {
    const [single] = packMessages([dispatch(1)], 100);
    expect(single!.body).toMatchObject({ v: 1, job: "item", lock: "tok-1" });
    expect(single!.deduplicationId).toBe("cacheback-tok-1");
    const [batch] = packMessages([1, 2, 3].map((i) => dispatch(i)), 100);
    expect(batch!.body).toMatchObject({ v: 2, refreshes: [{ lock: "tok-1" }, { lock: "tok-2" }, { lock: "tok-3" }] });
    expect(batch!.deduplicationId).toBe("cacheback-b3-tok-1");
  });

  it("splits past the item limit and under the size limit (QStash takes 1 MB)", () => {
    expect(packMessages(Array.from({ length: 250 }, (_, i) => dispatch(i)), 100).map((m) => m.items.length)).toEqual([100, 100, 50]);
    const big = "x".repeat(100_000);
    const messages = packMessages(Array.from({ length: 25 }, (_, i) => dispatch(i, big)), 100);
    expect(messages.length).toBeGreaterThan(2);
    for (const m of messages) expect(new TextEncoder().encode(JSON.stringify(m.body)).byteLength).toBeLessThan(900_000);
    expect(messages.flatMap((m) => m.items.map((it) => it.token))).toEqual(Array.from({ length: 25 }, (_, i) => `tok-${i}`));
  });
});

/**
 * Moves the fake clock 10 ms at a time, with a real turn of the event loop between steps (the dispatcher
 * is loaded on first use, then arms its window), until `done`.
 */
async function passWindow(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) {
    await new Promise((resolve) => setImmediate(resolve)); // a real turn of the event loop (setImmediate is not faked)
    await vi.advanceTimersByTimeAsync(10);
  }
  expect(done()).toBe(true);
}

describe("one message for many refreshes: the window", () => {
  it("a page that reads 50 stale entries publishes one message (50 with no window)", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const h = harness({ batchWindow: 10 });
    for (let i = 0; i < 50; i++) await h.cb.set(["item", i], i, { lifetime: 0 });
    const reads = await Promise.all(Array.from({ length: 50 }, (_, i) => h.cb.fetchWithStatus(["item", i], (n: number) => n)));
    for (const r of reads) expect(r.status).toBe("stale");
    await passWindow(() => h.queue.messages.length > 0);
    await h.settle();
    expect(h.queue.messages).toHaveLength(1);
    const body = h.queue.messages[0]!.body as RefreshBatch;
    expect(body.refreshes).toHaveLength(50);
    expect(new Set(body.refreshes.map((r) => r.lock)).size).toBe(50);
    expect(h.events.filter((e) => e.type === "refresh-queued").every((e) => e.type === "refresh-queued" && e.batch === 50)).toBe(true);

    const one = harness({ batchWindow: 0 });
    for (let i = 0; i < 50; i++) await one.cb.set(["item", i], i, { lifetime: 0 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => one.cb.fetchWithStatus(["item", i], (n: number) => n)));
    await one.settle();
    expect(one.queue.messages).toHaveLength(50);
  });

  it("a batch whose publish fails: every refresh of it runs here, under its own lock", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const h = harness({ batchWindow: 10 });
    const fn = vi.fn((n: number) => n * 10);
    for (let i = 0; i < 5; i++) await h.cb.set(["item", i], i, { lifetime: 0 });
    h.queue.failNext = 1;
    await Promise.all(Array.from({ length: 5 }, (_, i) => h.cb.fetchWithStatus(["item", i], fn, { lifetime: 60 })));
    await passWindow(() => fn.mock.calls.length > 0);
    await h.settle();
    expect(fn).toHaveBeenCalledTimes(5);
    for (let i = 0; i < 5; i++) expect(await h.cb.peek(["item", i])).toMatchObject({ status: "hit", value: i * 10 });
    vi.mocked(console.warn).mockRestore();
  });
});

describe("the refresh route and batches", () => {
  function setup(options: { batchConcurrency?: number } = {}) {
    const h = harness({ signingKeys: TEST_KEYS, refreshUrl: REFRESH_URL });
    const runs: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const failing = new Set<string>();
    const item = async (id: string) => {
      runs.push(id);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      if (failing.has(id)) throw new Error(`source down for ${id}`);
      return { id, run: runs.filter((r) => r === id).length };
    };
    const handler = createRefreshHandler({ jobs: { item }, cacheback: h.cb, ...options });
    const refresh = (id: string, job = "item"): RefreshMessage => buildRefreshMessage(job, [id], `lock-${id}`, h.clock.now, OPTIONS);
    const deliver = async (body: unknown) => {
      const res = await handler(await signedRequest(JSON.stringify(body)));
      return { status: res.status, body: (await res.json()) as { ok: boolean; results?: Record<string, unknown>[]; error?: string } };
    };
    return { h, runs, failing, refresh, deliver, maxInFlight: () => maxInFlight };
  }

  it("runs every refresh of a batch (a bounded number at a time) and answers 200 with each outcome", async () => {
    const { h, runs, refresh, deliver, maxInFlight } = setup({ batchConcurrency: 2 });
    const ids = ["a", "b", "c", "d", "e"];
    const { status, body } = await deliver({ v: 2, refreshes: ids.map((id) => refresh(id)) });
    expect(status).toBe(200);
    expect(body.results!.map((r) => r.code)).toEqual(Array(5).fill(200));
    expect(body.results!.map((r) => r.status)).toEqual(Array(5).fill("written"));
    expect(runs.sort()).toEqual(ids);
    expect(maxInFlight()).toBe(2);
    for (const id of ids) expect((await h.cb.peek(["item", id])).status).toBe("hit");
  });

  it("a batch with one failing job: the others are written; 5xx, and the retry runs only the failing one", async () => {
    const { h, runs, failing, refresh, deliver } = setup();
    failing.add("bad");
    const batch = { v: 2, refreshes: ["ok1", "bad", "ok2"].map((id) => refresh(id)) };
    const first = await deliver(batch);
    expect(first.status).toBe(500);
    expect(first.body.results!.map((r) => r.code)).toEqual([200, 500, 200]);
    expect((await h.cb.peek(["item", "ok1"])).status).toBe("hit");
    expect((await h.cb.peek(["item", "bad"])).status).toBe("miss");
    // QStash retries the message later, when the written entries may be stale again: they are not run twice.
    failing.delete("bad");
    h.advance(120);
    const retry = await deliver(batch);
    expect(retry.status).toBe(200);
    expect(retry.body.results!.map((r) => r.status)).toEqual(["skipped-done", "written", "skipped-done"]);
    expect(runs).toEqual(["ok1", "bad", "ok2", "bad"]);
  });

  it("a batch delivered twice runs no job twice; so does a single message redelivered after its entry went stale", async () => {
    const { h, runs, refresh, deliver } = setup();
    const batch = { v: 2, refreshes: ["x", "y"].map((id) => refresh(id)) };
    await deliver(batch);
    await deliver(batch);
    h.advance(120);
    await deliver(batch);
    expect(runs.sort()).toEqual(["x", "y"]);
    const single = refresh("z");
    await deliver(single);
    h.advance(120);
    expect((await deliver(single)).body).toMatchObject({ status: "skipped-done" });
    expect(runs.filter((r) => r === "z")).toHaveLength(1);
  });

  it("a refresh of a batch that can never succeed is dropped alone, its lock released; 489 only for a body that is not a batch", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const { h, runs, refresh, deliver } = setup();
    await h.store.acquireLock(entryKeys(h.cb.prefix, "nope", ["n"]).lock, "lock-n", 60_000);
    const mixed = await deliver({ v: 2, refreshes: [refresh("m1"), refresh("n", "nope"), { v: 1, job: "item" }, refresh("m2")] });
    expect(mixed.status).toBe(200);
    expect(mixed.body.results!.map((r) => r.code)).toEqual([200, 489, 489, 200]);
    expect(String(mixed.body.results![1]!.error)).toContain('No job named "nope"');
    expect(await h.store.acquireLock(entryKeys(h.cb.prefix, "nope", ["n"]).lock, "someone", 1000)).toBe(true);
    expect(runs.sort()).toEqual(["m1", "m2"]);
    for (const body of [{ v: 2 }, { v: 2, refreshes: [] }, { v: 2, refreshes: {} }, { v: 2, refreshes: Array(501).fill(refresh("m1")) }]) {
      expect((await deliver(body)).status, JSON.stringify(body).slice(0, 40)).toBe(489);
    }
    vi.mocked(console.warn).mockRestore();
  });
});
