import { Cacheback } from "../../src/cacheback.js";
import type { CachebackConfig } from "../../src/config.js";
import type { CachebackEvent } from "../../src/events.js";
import type { RefreshMessage } from "../../src/message.js";
import type { RefreshQueue } from "../../src/queues/types.js";
import { MemoryStore } from "../../src/stores/memory.js";

/** A queue that records what it is asked to publish (unit tests only). */
export class RecordingQueue implements RefreshQueue {
  readonly name = "recording";
  readonly published: { message: RefreshMessage; url: string; deduplicationId: string }[] = [];
  failNext = 0;

  async publish(message: RefreshMessage, options: { url: string; deduplicationId: string }): Promise<{ messageId: string }> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("queue unavailable");
    }
    this.published.push({ message, ...options });
    return { messageId: `msg_${this.published.length}` };
  }
}

/**
 * An instance on the memory store with a controlled clock, a recording queue, and background work
 * collected so a test can await it (no sleeps).
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
