import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cacheback } from "../../src/cacheback.js";
import type { RefreshBatch } from "../../src/message.js";
import { signQStashMessage } from "../../src/qstash/signing.js";
import { watchUnhandledRejections } from "../helpers/unhandled.js";
import { eventually } from "../helpers/wait.js";
import { recordEvents, startStack, type Stack } from "./fixture.js";

// Batches through the dev QStash server and a real refresh route: one message for a page's stale reads,
// a failing refresh retried alone by QStash's retry, and redeliveries that run no job twice.

let stack: Stack;
let cb: Cacheback;
const calls = new Map<string, number>();
const failOnce = new Set<string>();

const quote = async (symbol: string) => {
  const n = (calls.get(symbol) ?? 0) + 1;
  calls.set(symbol, n);
  if (failOnce.delete(symbol)) throw new Error(`the source failed for ${symbol}`);
  return { symbol, n };
};

beforeAll(async () => {
  stack = await startStack({ label: "batches" });
  // A wide window, so that a loaded machine cannot split one page's refreshes over two messages.
  cb = stack.instance({ batchWindow: 250 });
  stack.route(cb.createRefreshHandler({ jobs: { quote } }));
});

afterAll(async () => {
  await stack?.close();
});

async function seedStale(symbols: string[]) {
  for (const s of symbols) await cb.set(["quote", s], { symbol: s, n: 0 }, { lifetime: 0 });
}

describe("batches", () => {
  it("a page that reads 6 stale entries publishes one message; one failing refresh is retried alone; the rest are written once", async () => {
    const unhandled = watchUnhandledRejections();
    const symbols = ["B1", "B2", "B3", "BFAIL", "B5", "B6"];
    await seedStale(symbols);
    failOnce.add("BFAIL");
    const events = recordEvents(cb);
    const reads = await Promise.all(symbols.map((s) => cb.fetchWithStatus(["quote", s], quote, { lifetime: 60 })));
    for (const r of reads) expect(r.status).toBe("stale");
    await Promise.all(reads.map((r) => r.background));

    const messages = stack.messagesAbout('"args":["B1"]');
    expect(messages).toHaveLength(1);
    const body = JSON.parse(messages[0]!.body!) as RefreshBatch;
    expect(body.v).toBe(2);
    expect(body.refreshes.map((r) => r.args[0]).sort()).toEqual([...symbols].sort());
    expect(events.filter((e) => e.type === "refresh-queued").map((e) => e.type === "refresh-queued" && e.batch)).toEqual(Array(6).fill(6));

    // First delivery: 500 (BFAIL threw), the others written; QStash retries the message, which writes BFAIL only.
    const delivered = await eventually(
      "the retried delivery",
      async () => stack.messagesAbout('"args":["B1"]').find((m) => m.state === "DELIVERED" && m.attempts.length === 2),
      20_000,
    );
    expect(delivered.attempts.map((a) => a.status)).toEqual([500, 200]);
    for (const s of symbols) expect(await cb.peek(["quote", s]), s).toMatchObject({ status: "hit" });
    expect(Object.fromEntries(symbols.map((s) => [s, calls.get(s)]))).toEqual({ B1: 1, B2: 1, B3: 1, BFAIL: 2, B5: 1, B6: 1 });
    expect(unhandled.seen).toEqual([]);
    unhandled.dispose();
  }, 30_000);

  it("a batch delivered again later, when its entries are stale again, runs no job twice", async () => {
    const symbols = ["R1", "R2", "R3"];
    await seedStale(symbols);
    const reads = await Promise.all(symbols.map((s) => cb.fetchWithStatus(["quote", s], quote, { lifetime: 0.05 })));
    await Promise.all(reads.map((r) => r.background));
    const message = await eventually("the delivery", async () => stack.messagesAbout('"args":["R1"]').find((m) => m.state === "DELIVERED"));
    for (const s of symbols) expect(calls.get(s), s).toBe(1);
    await eventually("the entries to go stale again", async () => (await cb.peek(["quote", "R1"])).status === "stale");

    // The same message, delivered again with a valid signature (as a QStash retry would be).
    const signature = await signQStashMessage({ signingKey: stack.qstash.currentSigningKey, url: stack.refreshUrl, body: message!.body! });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(stack.refreshUrl, { method: "POST", body: message!.body!, headers: { "content-type": "application/json", "upstash-signature": signature } });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { results: { status: string }[] };
      expect(answer.results.map((r) => r.status)).toEqual(["skipped-done", "skipped-done", "skipped-done"]);
    }
    for (const s of symbols) expect(calls.get(s), s).toBe(1);
  }, 30_000);
});
