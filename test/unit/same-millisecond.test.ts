import { describe, expect, it } from "vitest";
import { VersionClock, versionAt } from "../../src/version-clock.js";
import { harness } from "../helpers/harness.js";

// Regression: versions used to be plain milliseconds, so a `set` or `invalidate` made in the same
// millisecond as the start of an earlier refresh tied with it, and the refresh overwrote the newer write
// (or wrote old data fresh and made the invalidate's own refresh skip). Found by the randomised
// interleavings of test/reliability/races-interleavings.test.ts.

async function refreshStartedThenWrite(write: (h: ReturnType<typeof harness>) => Promise<void>) {
  const h = harness();
  let source = "old";
  await h.cb.set(["quote", "T"], "v0", { lifetime: 0 });
  await h.cb.fetchWithStatus(["quote", "T"], () => source, { lifetime: 60 });
  await h.settle();
  const [queued] = h.queue.published;
  let answer!: () => void;
  const gate = new Promise<void>((resolve) => (answer = resolve));
  // The refresh starts and reads the source ("old") ...
  const refresh = h.cb.runRefresh(queued!.message, async () => {
    const seen = source;
    await gate;
    return seen;
  }, undefined);
  await new Promise((resolve) => setImmediate(resolve));
  // ... then, in the same millisecond (the clock does not move), the source changes and the cache is written.
  source = "new";
  await write(h);
  answer();
  return { h, outcome: await refresh, source: () => source };
}

describe("writes in the same millisecond as an earlier refresh's start", () => {
  it("a set wins over the refresh that started before it", async () => {
    const { h, outcome } = await refreshStartedThenWrite((h) => h.cb.set(["quote", "T"], "new", { lifetime: 60 }));
    expect(outcome).toMatchObject({ ok: true, status: "skipped-newer" });
    expect(await h.cb.peek(["quote", "T"])).toMatchObject({ status: "hit", value: "new" });
  });

  it("an invalidate is not lost: the earlier refresh does not write, the invalidate's own refresh does", async () => {
    const { h, outcome, source } = await refreshStartedThenWrite(async (h) => {
      await h.cb.invalidate(["quote", "T"], { lifetime: 60 });
    });
    expect(outcome).toMatchObject({ ok: true, status: "skipped-newer" });
    const own = h.queue.published.at(-1)!.message;
    expect(await h.cb.runRefresh(own, () => source(), undefined)).toMatchObject({ ok: true, status: "written" });
    expect(await h.cb.peek(["quote", "T"])).toMatchObject({ status: "hit", value: "new" });
  });
});

describe("version clock", () => {
  it("is strictly increasing within one millisecond and starts each millisecond at versionAt(ms)", () => {
    let now = 5;
    const clock = new VersionClock(() => now);
    expect([clock.next(), clock.next(), clock.next()]).toEqual([versionAt(5), versionAt(5) + 1, versionAt(5) + 2]);
    now = 6;
    expect(clock.next()).toBe(versionAt(6));
    now = 4; // a clock stepping back never makes versions go back
    expect(clock.next()).toBe(versionAt(6) + 1);
  });
});
