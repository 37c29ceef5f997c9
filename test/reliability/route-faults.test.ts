import type { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cacheback } from "../../src/cacheback.js";
import { entryKeys } from "../../src/keys.js";
import { QStashQueue } from "../../src/queues/qstash.js";
import { eventually } from "../helpers/wait.js";
import { startStack, type Stack } from "./fixture.js";

// The refresh route under failing jobs, delivered by the QStash server over HTTP: a job that throws (500,
// QStash retries, the old entry stays), one that hangs past refreshTimeout (504), one whose value the
// serializer refuses (489 non-retryable, with the reason). The route always says why in its body.

let stack: Stack;
let redis: Redis;
let cb: Cacheback;
let quickRetries: Cacheback;
const calls = { flaky: 0, broken: 0, hang: 0, dated: 0, custom: 0 };
let flakyFailures = 0;
let releaseHang!: () => void;
const hangGate = new Promise<void>((resolve) => (releaseHang = resolve));
let hangsFinished = 0;

beforeAll(async () => {
  stack = await startStack({ label: "route-faults" });
  redis = stack.redisClient();
  cb = stack.instance();
  // Same prefix and store, but messages published with 1 retry (2 deliveries) to keep the slow cases short.
  quickRetries = stack.instance({ prefix: cb.prefix, queue: new QStashQueue(stack.qstashClient(), { retries: 1 }) });
  const jobs = [
    cb.defineJob("flaky", async (id: string) => {
      calls.flaky++;
      if (calls.flaky <= flakyFailures) throw new Error(`source down (call ${calls.flaky})`);
      return { id, v: "new" };
    }),
    cb.defineJob("broken", async (id: string): Promise<{ id: string; v: string }> => {
      calls.broken++;
      throw new TypeError(`cannot read the source for ${id}`);
    }),
    cb.defineJob("hang", async (id: string) => {
      calls.hang++;
      await hangGate;
      hangsFinished++;
      return { id, v: "late" };
    }),
    cb.defineJob("dated", async (id: string) => {
      calls.dated++;
      return { id, at: new Date(0) } as unknown as { id: string; v: string };
    }),
    cb.defineJob(
      "custom",
      async (id: string) => {
        calls.custom++;
        return { id, v: "new" };
      },
      {
        serializer: {
          serialize: () => {
            throw new RangeError("this value is too large to store");
          },
          deserialize: (data: unknown) => data as { id: string; v: string },
        },
      },
    ),
  ];
  stack.route(cb.createRefreshHandler({ jobs }));
});

afterAll(async () => {
  releaseHang?.();
  await stack?.close();
});

/** Stores an old, stale entry, reads it (which queues the refresh) and returns the published message's log record. */
async function staleReadQueues(instance: Cacheback, job: string, id: string, options: { refreshTimeout?: number } = {}) {
  await cb.set([job, id], { id, v: "old" }, { lifetime: 0 });
  const read = await instance.fetchWithStatus([job, id], async () => ({ id, v: "reader" }), { lifetime: 60, ...options });
  expect(read).toMatchObject({ status: "stale", value: { id, v: "old" } });
  await read.background;
  const messages = stack.messagesAbout(`"job":"${job}","args":["${id}"]`);
  expect(messages).toHaveLength(1);
  return messages[0]!.messageId;
}

function record(messageId: string) {
  return stack.qstash.engine.message(messageId);
}

async function settled(messageId: string) {
  return eventually(`message ${messageId} to settle`, async () => {
    const r = record(messageId);
    return r && (r.state === "DELIVERED" || r.state === "FAILED") ? r : undefined;
  }, 20_000);
}

function answersFor(id: string) {
  return stack.app.answers.filter((a) => a.body.includes(`\\"${id}\\"`) || a.body.includes(`"${id}"`));
}

describe("refresh route faults", () => {
  it("the job throws twice, then works: 500 (retry) twice, QStash retries, the third delivery writes the new value", async () => {
    flakyFailures = 2;
    const id = await staleReadQueues(cb, "flaky", "F1");
    const done = await settled(id);
    expect(done.state).toBe("DELIVERED");
    expect(done.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(calls.flaky).toBe(3);
    const bodies = answersFor("F1").map((a) => JSON.parse(a.body) as Record<string, unknown>);
    expect(bodies[0]).toMatchObject({ ok: false, job: "flaky", phase: "fetch", retry: true, error: "Error: source down (call 1)" });
    expect(bodies[2]).toMatchObject({ ok: true, status: "written" });
    expect(await cb.peek(["flaky", "F1"])).toMatchObject({ status: "hit", value: { id: "F1", v: "new" } });
    expect(await redis.pttl(entryKeys(cb.prefix, "flaky", ["F1"]).lock)).toBe(-2);
  });

  it("the job always throws: every delivery answers 500 with the reason, the message ends in the DLQ after its retries, the old entry stays", async () => {
    const id = await staleReadQueues(cb, "broken", "B1");
    const done = await settled(id);
    expect(done.state).toBe("FAILED");
    expect(done.attempts.map((a) => a.status)).toEqual([500, 500, 500, 500]); // 1 + QStash's default 3 retries
    expect(stack.qstash.engine.deadLetters().some((m) => m.messageId === id)).toBe(true);
    expect(calls.broken).toBe(4);
    expect(JSON.parse(done.responseBody ?? "{}")).toMatchObject({ ok: false, phase: "fetch", retry: true, error: "TypeError: cannot read the source for B1" });
    expect(await cb.peek(["broken", "B1"])).toMatchObject({ status: "stale", value: { id: "B1", v: "old" } });
    // The lock stays for its window (no second message while QStash retries), and it expires.
    const pttl = await redis.pttl(entryKeys(cb.prefix, "broken", ["B1"]).lock);
    expect(pttl === -2 || pttl > 0).toBe(true);
  });

  it("the job hangs past refreshTimeout: 504 with the reason, QStash retries, the old entry stays, and the late value is never written", async () => {
    const id = await staleReadQueues(quickRetries, "hang", "H1", { refreshTimeout: 0.3 });
    const done = await settled(id);
    expect(done.state).toBe("FAILED");
    expect(done.attempts.map((a) => a.status)).toEqual([504, 504]);
    expect(JSON.parse(done.responseBody ?? "{}")).toMatchObject({
      ok: false,
      phase: "timeout",
      retry: true,
      error: 'CachebackTimeoutError: job "hang" did not finish within 300 ms',
    });
    expect(calls.hang).toBe(2);
    releaseHang();
    await eventually("both hung calls to return", async () => hangsFinished === 2);
    await stack.qstash.engine.idle();
    expect(await cb.peek(["hang", "H1"])).toMatchObject({ status: "stale", value: { id: "H1", v: "old" } });
  });

  it("the job returns a value the default serializer refuses (a Date): 489 non-retryable naming the key and path, one delivery, DLQ, old entry stays, lock released", async () => {
    const id = await staleReadQueues(cb, "dated", "D1");
    const done = await settled(id);
    expect(done.state).toBe("FAILED");
    expect(done.attempts.map((a) => a.status)).toEqual([489]);
    expect(done.responseHeader?.["Upstash-NonRetryable-Error"] ?? done.responseHeader?.["upstash-nonretryable-error"]).toEqual(["true"]);
    const body = JSON.parse(done.responseBody ?? "{}") as { ok: boolean; error: string; key: string };
    expect(body.ok).toBe(false);
    expect(body.error).toContain('Job "dated" cannot be refreshed (serialize)');
    expect(body.error).toContain("CachebackSerializationError");
    expect(body.error).toContain("$.at is a Date");
    expect(body.key).toBe(cb.key(["dated", "D1"]));
    expect(calls.dated).toBe(1);
    expect(await cb.peek(["dated", "D1"])).toMatchObject({ status: "stale", value: { id: "D1", v: "old" } });
    expect(await redis.pttl(entryKeys(cb.prefix, "dated", ["D1"]).lock)).toBe(-2);
  });

  it("a custom serializer that throws: 489 non-retryable with its message, the old entry stays", async () => {
    const id = await staleReadQueues(cb, "custom", "C1");
    const done = await settled(id);
    expect(done.attempts.map((a) => a.status)).toEqual([489]);
    expect(JSON.parse(done.responseBody ?? "{}").error).toContain("RangeError: this value is too large to store");
    expect(calls.custom).toBe(1);
    expect((await cb.peek(["custom", "C1"])).value).toEqual({ id: "C1", v: "old" });
  });
});
