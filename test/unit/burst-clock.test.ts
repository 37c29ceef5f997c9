import { describe, expect, it } from "vitest";
import { burstClock } from "../../src/burst-clock.js";
import { createCacheback } from "../../src/cacheback.js";
import { MemoryStore } from "../../src/stores/memory.js";

describe("burstClock: one clock read per burst", () => {
  it("gives one reading until the microtasks queued by then have run, then reads again", async () => {
    let reads = 0;
    const clock = burstClock(() => ++reads * 100);
    // Microtasks queued before the first reading run before the burst ends: they share it.
    const queued = [Promise.resolve().then(clock), Promise.resolve().then(clock)];
    expect([clock(), clock(), clock()]).toEqual([100, 100, 100]);
    expect(await Promise.all(queued)).toEqual([100, 100]);
    expect(reads).toBe(1);
    // The burst has ended: a microtask queued now reads the clock again.
    expect(await Promise.resolve().then(clock)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(clock()).toBe(300);
    expect(clock()).toBe(300);
    expect(reads).toBe(3);
  });

  it("is the default clock of a fresh hit's check only: a configured clock is used as it is", async () => {
    let t = 1_000_000;
    const cb = createCacheback({ store: new MemoryStore({ now: () => t }), now: () => t, defaults: { lifetime: 10 } });
    await cb.set("feed", "v1");
    t += 9_999;
    expect((await cb.fetchWithStatus("feed", () => "v2")).status).toBe("hit");
    t += 1; // the configured clock decides, read on every hit
    expect((await cb.fetchWithStatus("feed", () => "v2")).status).toBe("stale");
  });
});
