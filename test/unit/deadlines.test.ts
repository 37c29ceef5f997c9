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

describe("Deadlines: one timer for every operation in flight", () => {
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

  it("operations started at different times time out each at its own deadline, whatever the order they settle in", async () => {
    vi.useFakeTimers();
    const d = new Deadlines(100, "op ");
    // 300 operations, one every 2 ms (more than the queue's first capacity, so it grows and wraps around);
    // every third one hangs, the others settle out of order, well before their time is up.
    const ops = Array.from({ length: 300 }, () => later<number>());
    const outcomes: Promise<string>[] = [];
    const timedOutAt = new Map<number, number>();
    for (let i = 0; i < ops.length; i++) {
      outcomes.push(
        d.race(ops[i]!.promise, String(i)).then(
          (v) => `settled ${v}`,
          (e: Error) => {
            timedOutAt.set(i, Date.now());
            return e.message;
          },
        ),
      );
      // Every tenth step, the last ten settle, newest first (those that do not hang).
      if (i % 10 === 9) for (let j = i; j > i - 10; j--) if (j % 3 !== 0) ops[j]!.resolve(j);
      await vi.advanceTimersByTimeAsync(2);
    }
    const start = Date.now() - 2 * ops.length;
    await vi.advanceTimersByTimeAsync(200);
    const results = await Promise.all(outcomes);
    for (let i = 0; i < ops.length; i++) {
      if (i % 3 === 0) {
        expect(results[i]).toBe(`op ${i} did not finish within 100 ms`);
        expect(timedOutAt.get(i)! - start).toBe(2 * i + 100); // its own start plus the duration, exactly
      } else {
        expect(results[i]).toBe(`settled ${i}`);
      }
    }
  });

  it("reads the clock once per burst: operations started in one run of microtasks share its start", async () => {
    vi.useFakeTimers();
    const d = new Deadlines(1000, "op ");
    const first = d.race(new Promise<number>(() => undefined), "first").catch(() => Date.now());
    vi.advanceTimersByTime(300); // the clock moves, but no microtask has run: the same burst
    const second = d.race(new Promise<number>(() => undefined), "second").catch(() => Date.now());
    const started = Date.now() - 300;
    await vi.advanceTimersByTimeAsync(0); // the burst ends here
    const third = d.race(new Promise<number>(() => undefined), "third").catch(() => Date.now());
    await vi.advanceTimersByTimeAsync(1000);
    expect((await first) - started).toBe(1000);
    expect((await second) - started).toBe(1000);
    expect((await third) - started).toBe(1300);
  });
});
