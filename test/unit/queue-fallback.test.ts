import { afterEach, describe, expect, it, vi } from "vitest";
import { backoffMs } from "../../src/core/breaker.js";
import type { RefreshMessage } from "../../src/message.js";
import type { PublishOptions, RefreshQueue } from "../../src/queues/types.js";
import { harness } from "../helpers/harness.js";
import { watchUnhandledRejections } from "../helpers/unhandled.js";

/** A queue that fails while `down` is set (with `error`), hangs while `hang` is set, and records what it publishes. */
class FlakyQueue implements RefreshQueue {
  readonly name = "flaky";
  readonly published: RefreshMessage[] = [];
  attempts = 0;
  down = false;
  hang = false;
  error: Error = new Error("connect ECONNREFUSED 127.0.0.1:8080");
  /** When set, every publish waits for it before it answers (publishes in flight together). */
  gate: Promise<void> | undefined;

  async publish(message: RefreshMessage, _options: PublishOptions): Promise<{ messageId: string }> {
    this.attempts++;
    if (this.hang) return new Promise(() => undefined);
    if (this.gate) await this.gate;
    if (this.down) throw this.error;
    this.published.push(message);
    return { messageId: `m${this.published.length}` };
  }
}

function setup(config: Parameters<typeof harness>[0] = {}) {
  const queue = new FlakyQueue();
  const h = harness({ queue, ...config });
  const calls = new Map<string, number>();
  const source = (id: string) => {
    calls.set(id, (calls.get(id) ?? 0) + 1);
    return { id, n: calls.get(id) };
  };
  return { h, queue, calls, source };
}

let logs: ReturnType<typeof vi.spyOn>[] = [];
function captureLogs() {
  const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
  const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
  logs = [warn, error];
  return () => [...warn.mock.calls, ...error.mock.calls].map((args) => String(args[0]));
}
afterEach(() => {
  for (const spy of logs) spy.mockRestore();
  logs = [];
  vi.useRealTimers();
});

describe("a queue that fails does not stop refreshes", () => {
  it("the lock holder refreshes in process when the publish fails, under the same lock, and says why", async () => {
    const lines = captureLogs();
    const { h, queue, calls, source } = setup();
    await h.cb.set(["item", "a"], { id: "a", n: 0 }, { lifetime: 0 });
    queue.down = true;
    const reads = await Promise.all(Array.from({ length: 50 }, () => h.cb.fetchWithStatus(["item", "a"], source, { lifetime: 60 })));
    for (const r of reads) expect(r).toMatchObject({ status: "stale", value: { n: 0 } });
    await h.settle();
    expect(calls.get("a")).toBe(1);
    expect(await h.cb.fetchWithStatus(["item", "a"], source, { lifetime: 60 })).toMatchObject({ status: "hit", value: { n: 1 } });
    const fallback = h.events.find((e) => e.type === "refresh-fallback");
    expect(fallback).toMatchObject({ key: 'cacheback:entry:item:["a"]', job: "item", reason: "publish-failed" });
    expect(h.events.find((e) => e.type === "refresh-done")).toMatchObject({ written: true, sync: false });
    // The lock was released by the refresh: the next window can lock again.
    expect(await h.store.acquireLock('cacheback:lock:item:["a"]', "x", 1000)).toBe(true);
    expect(lines().filter((l) => l.includes("Refreshes run in this process meanwhile"))).toHaveLength(1);
  });

  it("a daily-quota 429 is a failure like any other", async () => {
    const { h, queue, calls, source } = setup();
    queue.down = true;
    queue.error = Object.assign(new Error("You have reached the daily message limit"), { name: "QstashDailyRatelimitError" });
    await h.cb.set(["item", "q"], { id: "q", n: 0 }, { lifetime: 0 });
    await (await h.cb.fetchWithStatus(["item", "q"], source)).background;
    expect(calls.get("q")).toBe(1);
    expect(h.events.find((e) => e.type === "refresh-fallback")).toMatchObject({ reason: "publish-failed", error: { name: "QstashDailyRatelimitError" } });
  });

  it("during an outage the process backs off: no publish on every stale read, each entry refreshed once per window, one log line", async () => {
    const lines = captureLogs();
    const unhandled = watchUnhandledRejections();
    const { h, queue, calls, source } = setup();
    for (let i = 0; i < 20; i++) await h.cb.set(["item", `k${i}`], { id: `k${i}`, n: 0 }, { lifetime: 0 });
    queue.down = true;
    // The outage begins with one stale read; then 20 stale entries, read 10 times each, within the first back-off interval.
    await (await h.cb.fetchWithStatus(["item", "k0"], source, { lifetime: 0, refreshTimeout: 30 })).background;
    for (let round = 0; round < 10; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => h.cb.fetch(["item", `k${i}`], source, { lifetime: 0, refreshTimeout: 30 })));
    }
    await h.settle();
    expect(queue.attempts).toBe(1); // one attempt, then the queue is left alone
    for (let i = 0; i < 20; i++) expect(calls.get(`k${i}`), `k${i}`).toBe(1); // every entry refreshed here, once per lock window
    expect(h.events.filter((e) => e.type === "refresh-fallback" && e.reason === "queue-paused")).toHaveLength(19);
    expect(lines().filter((l) => l.includes("next-cacheback"))).toHaveLength(1); // one line for the outage (errors go to the "error" listener)
    expect(unhandled.seen).toEqual([]);
    unhandled.dispose();
  });

  it("the back-off doubles up to its bound, and publishing resumes by itself when the queue answers", async () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffMs(n, { initialMs: 1000, maxMs: 30_000 }))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    const lines = captureLogs();
    const { h, queue, source } = setup({ publishBackoff: { initial: 1, max: 4 } });
    queue.down = true;
    const staleRead = async (id: string) => {
      await h.cb.set(["item", id], { id, n: 0 }, { lifetime: 0 });
      await (await h.cb.fetchWithStatus(["item", id], source, { lifetime: 0 })).background;
    };
    await staleRead("a"); // attempt 1 fails: paused 1 s
    await staleRead("b"); // paused: no attempt
    expect(queue.attempts).toBe(1);
    h.advance(1);
    await staleRead("c"); // attempt 2 fails: paused 2 s
    h.advance(1);
    await staleRead("d"); // still paused
    expect(queue.attempts).toBe(2);
    h.advance(1);
    await staleRead("e"); // attempt 3 fails: paused 4 s (the bound)
    h.advance(4);
    await staleRead("f"); // attempt 4 fails: paused 4 s
    expect(queue.attempts).toBe(4);
    queue.down = false;
    h.advance(4);
    await staleRead("g"); // the queue answers: published, and the outage is over
    await staleRead("h");
    expect(queue.attempts).toBe(6);
    expect(queue.published.map((m) => m.args)).toEqual([["g"], ["h"]]);
    expect(lines().filter((l) => l.includes("takes refreshes again"))).toHaveLength(1);
  });

  it("publishes that fail together are one failed attempt: the back-off still starts at its first step", async () => {
    captureLogs();
    const { h, queue, calls, source } = setup();
    for (let i = 0; i < 6; i++) await h.cb.set(["item", `c${i}`], { id: `c${i}`, n: 0 }, { lifetime: 0 });
    queue.down = true;
    let open!: () => void;
    queue.gate = new Promise<void>((resolve) => (open = resolve));
    // Six refreshes publish at once (each its own message) while the queue is down, as a busy process's do
    // while the client waits out a refused connection: their failures arrive together.
    const reads = await Promise.all(Array.from({ length: 6 }, (_, i) => h.cb.fetchWithStatus(["item", `c${i}`], source)));
    await vi.waitFor(() => expect(queue.attempts).toBe(6));
    open();
    await Promise.all(reads.map((r) => r.background));
    for (let i = 0; i < 6; i++) expect(calls.get(`c${i}`), `c${i}`).toBe(1); // each refreshed here
    // The queue is back; one back-off step (1 s) later the next refresh is published again.
    queue.down = false;
    queue.gate = undefined;
    h.advance(1);
    await h.cb.set(["item", "next"], { id: "next", n: 0 }, { lifetime: 0 });
    await (await h.cb.fetchWithStatus(["item", "next"], source)).background;
    expect(queue.published.map((m) => m.args)).toEqual([["next"]]);
    expect(calls.get("next")).toBeUndefined();
  });

  it("a publish that hangs is cut at publishTimeout, then the refresh runs here", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    captureLogs();
    const { h, queue, calls, source } = setup({ publishTimeout: 3 });
    queue.hang = true;
    await h.cb.set(["item", "slow"], { id: "slow", n: 0 }, { lifetime: 0 });
    const read = await h.cb.fetchWithStatus(["item", "slow"], source);
    let settled = false;
    void read.background.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(2_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await read.background;
    expect(calls.get("slow")).toBe(1);
    expect(h.events.find((e) => e.type === "refresh-fallback")).toMatchObject({ error: { name: "CachebackTimeoutError" } });
  });

  it("with queueFallback: false, nothing runs here and the entry waits for the queue", async () => {
    captureLogs();
    const { h, queue, calls, source } = setup({ queueFallback: false });
    queue.down = true;
    await h.cb.set(["item", "w"], { id: "w", n: 0 }, { lifetime: 0 });
    await (await h.cb.fetchWithStatus(["item", "w"], source)).background;
    expect(calls.get("w")).toBeUndefined();
    expect(h.events.some((e) => e.type === "refresh-fallback")).toBe(false);
    expect((await h.cb.peek(["item", "w"])).status).toBe("stale");
  });
});
