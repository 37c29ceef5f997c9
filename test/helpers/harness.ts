import { Cacheback } from "../../src/cacheback.js";
import type { CachebackConfig } from "../../src/config.js";
import type { CachebackEvent } from "../../src/events.js";
import type { RefreshBatch, RefreshMessage } from "../../src/message.js";
import type { RefreshQueue } from "../../src/queues/types.js";
import { MemoryStore } from "../../src/stores/memory.js";

/** A queue that records what it is asked to publish (unit tests only): each refresh, and each batch. */
export class RecordingQueue implements RefreshQueue {
  readonly name = "recording";
  /** Every refresh published, one per item of a batch. */
  readonly published: { message: RefreshMessage; url: string; deduplicationId: string }[] = [];
  /** Every message published (a refresh or a batch). */
  readonly messages: { body: RefreshMessage | RefreshBatch; deduplicationId: string }[] = [];
  failNext = 0;

  async publish(body: RefreshMessage | RefreshBatch, options: { url: string; deduplicationId: string }): Promise<{ messageId: string }> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("queue unavailable");
    }
    this.messages.push({ body, deduplicationId: options.deduplicationId });
    for (const message of "refreshes" in body ? body.refreshes : [body]) this.published.push({ message, ...options });
    return { messageId: `msg_${this.messages.length}` };
  }
}

/**
 * An instance on the memory store with a controlled clock, a recording queue, and background work
 * collected so a test can await it (no sleeps). Refreshes are published one by one (`batchWindow: 0`)
 * unless a test sets a window (and controls the timers).
 */
export function harness(config: Partial<CachebackConfig> = {}) {
  const clock = { now: 1_700_000_000_000 };
  const now = () => clock.now;
  const store = new MemoryStore({ now });
  const queue = new RecordingQueue();
  const pending: Promise<unknown>[] = [];
  const events: CachebackEvent[] = [];
  const cb = new Cacheback({
    store,
    queue,
    now,
    refreshUrl: "https://app.example/api/cacheback",
    batchWindow: 0,
    runInBackground: async (task) => {
      const p = task().then(
        () => undefined,
        () => undefined,
      );
      pending.push(p);
      await p;
    },
    ...config,
  });
  cb.on("*", (e) => events.push(e));
  return {
    cb,
    store,
    queue,
    clock,
    events,
    advance(seconds: number) {
      clock.now += seconds * 1000;
    },
    /** Waits for every background task started so far (and those they start). */
    async settle() {
      while (pending.length > 0) await Promise.all(pending.splice(0));
    },
    eventTypes: () => events.map((e) => e.type),
  };
}
