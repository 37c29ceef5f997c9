import { afterEach, describe, expect, it, vi } from "vitest";
import { Deadlines } from "../../src/deadlines.js";

afterEach(() => {
  vi.useRealTimers();
});

function later<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("Deadlines: one pooled timer per operation in flight", () => {
  it("settles with the operation, or rejects naming it once the time is up", async () => {
    vi.useFakeTimers();
    const d = new Deadlines(1000, "read of ");
    await expect(d.race(Promise.resolve(7), "a")).resolves.toBe(7);
    const slow = later<number>();
    const raced = d.race(slow.promise, "b");
    const outcome = raced.then(
      (v) => ({ v }),
      (e: Error) => ({ e: `${e.name}: ${e.message}` }),
    );
    await vi.advanceTimersByTimeAsync(999);
    slow.resolve(1); // too late? not yet: 999 ms
    expect(await outcome).toEqual({ v: 1 });
    const hung = d.race(new Promise<number>(() => undefined), "c").catch((e: Error) => e.message);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await hung).toBe("read of c did not finish within 1000 ms");
  });

  it("a late answer of a timed-out operation does not end the watch of the next one that took its timer", async () => {
    vi.useFakeTimers();
    const d = new Deadlines(1000, "read of ");
    const first = later<string>();
    const firstOutcome = d.race(first.promise, "first").catch(() => "timed out");
    await vi.advanceTimersByTimeAsync(1000);
    expect(await firstOutcome).toBe("timed out");
    // The timer is free again; the next operation takes it. Then the first one's answer arrives, late.
    const second = later<string>();
    const secondOutcome = d.race(second.promise, "second").catch(() => "timed out");
    first.resolve("late");
    await Promise.resolve();
    second.resolve("second's answer");
    expect(await secondOutcome).toBe("second's answer");
    // And the timer still works for a third.
    const third = d.race(new Promise<string>(() => undefined), "third").catch(() => "timed out");
    await vi.advanceTimersByTimeAsync(1000);
    expect(await third).toBe("timed out");
  });

  it("many at once each keep their own deadline", async () => {
    vi.useFakeTimers();
    const d = new Deadlines(100, "op ");
    const ops = Array.from({ length: 50 }, () => later<number>());
    const raced = ops.map((op, i) => d.race(op.promise, String(i)).catch(() => -1));
    ops.forEach((op, i) => i % 2 === 0 && op.resolve(i));
    await vi.advanceTimersByTimeAsync(100);
    expect(await Promise.all(raced)).toEqual(ops.map((_, i) => (i % 2 === 0 ? i : -1)));
  });
});
