import { describe, expect, it, vi } from "vitest";
import { makeJob } from "../../src/job.js";
import { buildRefreshMessage } from "../../src/message.js";
import { resolveRefreshOptions } from "../../src/options.js";
import { createRefreshHandler } from "../../src/route/handler.js";
import { harness } from "../helpers/harness.js";
import { REFRESH_URL, TEST_KEYS, signedRequest } from "../helpers/signed-request.js";

function setup(jobs?: Parameters<typeof createRefreshHandler>[0]["jobs"]) {
  const h = harness({ signingKeys: TEST_KEYS, refreshUrl: REFRESH_URL });
  const quote = vi.fn(async (symbol: string) => ({ symbol, price: 42 }));
  const quoteJob = makeJob(() => h.cb, "quote", quote, { lifetime: 60, args: (a) => a.length === 1 && typeof a[0] === "string" });
  const handler = createRefreshHandler({ jobs: jobs ?? [quoteJob], cacheback: h.cb });
  const message = (job = "quote", args: unknown[] = ["ACME"], lock = "lock-1") =>
    JSON.stringify(buildRefreshMessage(job, args, lock, h.clock.now, resolveRefreshOptions({ lifetime: 60 })));
  return { h, quote, quoteJob, handler, message };
}

async function body(res: Response) {
  return (await res.json()) as Record<string, unknown>;
}

describe("refresh route", () => {
  it("runs the job, writes the entry, releases the lock and answers 200 after the write", async () => {
    const { h, quote, quoteJob, handler, message } = setup();
    await h.store.acquireLock("cacheback:lock:quote:[\"ACME\"]", "lock-1", 60_000);
    const res = await handler(await signedRequest(message()));
    expect(res.status).toBe(200);
    expect(await body(res)).toMatchObject({ ok: true, job: "quote", status: "written", key: 'cacheback:entry:quote:["ACME"]' });
    expect(quote).toHaveBeenCalledWith("ACME");
    expect(await quoteJob.peek("ACME")).toMatchObject({ status: "hit", value: { symbol: "ACME", price: 42 } });
    expect(await h.store.acquireLock("cacheback:lock:quote:[\"ACME\"]", "other", 60_000)).toBe(true);
    expect(h.eventTypes()).toContain("refresh-done");
  });

  it("finds plain fetchers registered by name", async () => {
    const { h, handler, message } = setup({ quote: async (s: string) => `${s}!` });
    const res = await handler(await signedRequest(message()));
    expect(res.status).toBe(200);
    expect((await h.cb.peek(["quote", "ACME"])).value).toBe("ACME!");
  });

  it.each([
    ["no signature", async (b: string) => new Request(REFRESH_URL, { method: "POST", body: b })],
    ["a tampered body", async (b: string) => signedRequest(b.replace("ACME", "ACMF"), { signedBody: b })],
    ["a wrong key", async (b: string) => signedRequest(b, { key: "sig_wrong" })],
    ["another URL", async (b: string) => signedRequest(b, { url: "https://evil.example/api/cacheback" })],
    ["an expired token", async (b: string) => signedRequest(b, { nowSeconds: Math.floor(Date.now() / 1000) - 3600 })],
    ["garbage", async (b: string) => new Request(REFRESH_URL, { method: "POST", body: b, headers: { "upstash-signature": "garbage" } })],
  ])("rejects %s with 401 and runs nothing", async (_label, make) => {
    const { h, quote, handler, message } = setup();
    const res = await handler(await make(message()));
    expect(res.status).toBe(401);
    expect(quote).not.toHaveBeenCalled();
    expect((await h.cb.peek(["quote", "ACME"])).status).toBe("miss");
  });

  it.each([
    ["no refresh URL in production", { refreshUrl: undefined, production: true }, /CACHEBACK_REFRESH_URL/],
    ["no signing keys", { signingKeys: undefined }, /QSTASH_CURRENT_SIGNING_KEY/],
  ] as const)("answers 500 naming what to set when it has %s, and runs nothing", async (_label, config, text) => {
    const h = harness({ signingKeys: TEST_KEYS, refreshUrl: REFRESH_URL, ...config });
    const quote = vi.fn(async (symbol: string) => symbol);
    const handler = createRefreshHandler({ jobs: { quote }, cacheback: h.cb });
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const res = await handler(await signedRequest(JSON.stringify(buildRefreshMessage("quote", ["ACME"], "lock-1", h.clock.now, resolveRefreshOptions({})))));
      expect(res.status).toBe(500);
      expect(String((await body(res)).error)).toMatch(text);
      expect(quote).not.toHaveBeenCalled();
      expect(error).toHaveBeenCalledWith(expect.stringMatching(/refresh route misconfigured/));
    } finally {
      error.mockRestore();
    }
  });

  it("verifies with the next key too", async () => {
    const { handler, message } = setup();
    expect((await handler(await signedRequest(message(), { key: TEST_KEYS.next }))).status).toBe(200);
  });

  it("answers 489 non-retryable for an unknown job, saying how to register it", async () => {
    const { quote, handler, message } = setup();
    const res = await handler(await signedRequest(message("posts", [1])));
    expect(res.status).toBe(489);
    expect(res.headers.get("upstash-nonretryable-error")).toBe("true");
    const { error } = await body(res);
    expect(error).toContain('No job named "posts"');
    expect(error).toContain('createRefreshHandler({ jobs: [defineJob("posts", yourFetcher)] })');
    expect(error).toContain('Registered: "quote"');
    expect(quote).not.toHaveBeenCalled();
  });

  it.each([
    ["not JSON", "{nope"],
    ["an array", "[1,2]"],
    ["no job", JSON.stringify({ v: 1, args: [], lock: "l", queuedAt: 1, options: { lifetime: 1, ttl: 1, refreshTimeout: 1 } })],
    ["a job name with a newline", JSON.stringify({ v: 1, job: "quote\n", args: [], lock: "l", queuedAt: 1, options: { lifetime: 1, ttl: 1, refreshTimeout: 1 } })],
    ["args not an array", JSON.stringify({ v: 1, job: "quote", args: "ACME", lock: "l", queuedAt: 1, options: { lifetime: 1, ttl: 1, refreshTimeout: 1 } })],
    ["a wrong version", JSON.stringify({ v: 2, job: "quote", args: [], lock: "l", queuedAt: 1, options: {} })],
  ])("answers 489 for a body that is %s", async (_label, raw) => {
    const { quote, handler } = setup();
    const res = await handler(await signedRequest(raw));
    expect(res.status).toBe(489);
    expect(res.headers.get("upstash-nonretryable-error")).toBe("true");
    expect(quote).not.toHaveBeenCalled();
  });

  it("answers 489 when the job's args check refuses the arguments", async () => {
    const { quote, handler, message } = setup();
    const res = await handler(await signedRequest(message("quote", [1, 2])));
    expect(res.status).toBe(489);
    expect((await body(res)).error).toContain('Arguments refused for job "quote"');
    expect(quote).not.toHaveBeenCalled();
  });

  it("answers 500 when the job throws (QStash retries) and keeps the old entry", async () => {
    const { h, handler, message } = setup({ quote: async () => Promise.reject(new Error("upstream 502")) });
    await h.cb.set(["quote", "ACME"], "old", { lifetime: 60 });
    h.advance(1);
    const res = await handler(await signedRequest(message()));
    expect(res.status).toBe(500);
    expect(await body(res)).toMatchObject({ ok: false, phase: "fetch", retry: true, error: "Error: upstream 502" });
    expect((await h.cb.peek(["quote", "ACME"])).value).toBe("old");
    expect(h.eventTypes()).toContain("refresh-failed");
  });

  it("answers 504 when the job runs past refreshTimeout, and writes nothing", async () => {
    const h = harness({ signingKeys: TEST_KEYS });
    const handler = createRefreshHandler({ jobs: { slow: () => new Promise(() => {}) }, cacheback: h.cb });
    const msg = JSON.stringify(buildRefreshMessage("slow", [], "l", h.clock.now, resolveRefreshOptions({ refreshTimeout: 0.05 })));
    const res = await handler(await signedRequest(msg));
    expect(res.status).toBe(504);
    expect((await h.cb.peek("slow")).status).toBe("miss");
  });

  it("answers 489 when the value cannot be stored, and releases the lock", async () => {
    const { h, handler, message } = setup({ quote: async () => ({ at: new Date() }) });
    await h.store.acquireLock('cacheback:lock:quote:["ACME"]', "lock-1", 60_000);
    const res = await handler(await signedRequest(message()));
    expect(res.status).toBe(489);
    expect((await body(res)).error).toMatch(/\$\.at is a Date/);
    expect(await h.store.acquireLock('cacheback:lock:quote:["ACME"]', "x", 60_000)).toBe(true);
  });

  it("answers 413 for a body over the limit, before anything else", async () => {
    const h = harness({ signingKeys: TEST_KEYS });
    const handler = createRefreshHandler({ jobs: {}, cacheback: h.cb, maxBodyBytes: 1000 });
    const res = await handler(new Request(REFRESH_URL, { method: "POST", body: "x".repeat(5000) }));
    expect(res.status).toBe(413);
  });

  it("answers 405 to anything but POST", async () => {
    const { handler } = setup();
    expect((await handler(new Request(REFRESH_URL))).status).toBe(405);
  });

  it("a refresh that began before a newer set finishes without overwriting it", async () => {
    const { h, handler, message } = setup({
      quote: async () => {
        // While the source is slow, someone writes a newer value by hand.
        h.advance(2);
        await h.cb.set(["quote", "ACME"], "set-by-hand", { lifetime: 60 });
        h.advance(2);
        return "from-refresh";
      },
    });
    const res = await handler(await signedRequest(message()));
    expect(await body(res)).toMatchObject({ ok: true, status: "skipped-newer" });
    expect((await h.cb.peek(["quote", "ACME"])).value).toBe("set-by-hand");
  });

  it("the same message delivered twice runs the job once", async () => {
    const { quote, handler, message } = setup();
    const raw = message();
    expect(await body(await handler(await signedRequest(raw)))).toMatchObject({ status: "written" });
    expect(await body(await handler(await signedRequest(raw)))).toMatchObject({ status: "skipped-fresh" });
    expect(quote).toHaveBeenCalledTimes(1);
  });

  it("refuses a jobs list with something that is not a job, and duplicate names", () => {
    const h = harness();
    expect(() => createRefreshHandler({ jobs: [(() => 1) as never], cacheback: h.cb })).toThrow(/takes jobs made with defineJob/);
    const a = makeJob(() => h.cb, "a", () => 1);
    expect(() => createRefreshHandler({ jobs: [a, a], cacheback: h.cb })).toThrow(/two jobs are named "a"/);
  });
});
