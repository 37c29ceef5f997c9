import { describe, expect, it } from "vitest";
import { entryKeys } from "../../src/keys.js";
import { harness } from "../helpers/harness.js";

// Regression: the refresh route releases the lock once it has written, so a reader that saw the entry
// stale just before the write could win the lock just after it and queue a second refresh in the same
// window (found by the many-instances stampede of test/reliability/races-delivery.test.ts: 2 messages and
// 2 source calls instead of 1). A reader that wins the lock now checks the entry first.

describe("a stale reader whose background work runs after the refresh landed", () => {
  it("queues nothing and releases the lock it won", async () => {
    const held: (() => Promise<unknown>)[] = [];
    let holdNext = false;
    const h = harness({
      runInBackground: async (task) => {
        if (holdNext) held.push(task);
        else await task().catch(() => undefined);
      },
    });
    const source = (symbol: string) => `${symbol}@new`;
    await h.cb.set(["quote", "LATE"], "LATE@old", { lifetime: 0 });

    const first = await h.cb.fetchWithStatus(["quote", "LATE"], source, { lifetime: 60 });
    expect(first.status).toBe("stale");
    await first.background;
    expect(h.queue.published).toHaveLength(1);

    holdNext = true;
    const late = await h.cb.fetchWithStatus(["quote", "LATE"], source, { lifetime: 60 });
    expect(late).toMatchObject({ status: "stale", value: "LATE@old" });

    // The refresh lands (and releases the lock) before the late reader's background work runs.
    expect(await h.cb.runRefresh(h.queue.published[0]!.message, source, undefined)).toMatchObject({ ok: true, status: "written" });
    await Promise.all(held.map((task) => task()));

    expect(h.queue.published).toHaveLength(1);
    expect(await h.store.acquireLock(entryKeys(h.cb.prefix, "quote", ["LATE"]).lock, "someone-else", 1000)).toBe(true);
  });

  it("still queues when the entry is still stale after it won the lock", async () => {
    const h = harness();
    await h.cb.set(["quote", "STILL"], "old", { lifetime: 0 });
    await (await h.cb.fetchWithStatus(["quote", "STILL"], () => "new", { lifetime: 60 })).background;
    expect(h.queue.published).toHaveLength(1);
  });
});
