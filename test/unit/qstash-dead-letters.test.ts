import { describe, expect, it } from "vitest";
import { DeliveryEngine } from "../../src/qstash/delivery.js";
import { QSTASH_DEV_CURRENT_SIGNING_KEY } from "../../src/qstash/dev-credentials.js";
import { DeliveryEngineClosedError } from "../../src/qstash/errors.js";

/** A fetch that answers each call with `answer(index)` and records the bodies and headers it was sent. */
function scriptedFetch(answer: (index: number) => Response) {
  const calls: Array<{ url: string; body: string; headers: Headers }> = [];
  const impl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(input), body: new TextDecoder().decode(init?.body as Uint8Array), headers: new Headers(init?.headers) });
    return answer(calls.length - 1);
  };
  return { calls, fetch: impl as typeof fetch };
}

const destination = "http://127.0.0.1:9/api/cacheback";

describe("DeliveryEngine: each delivery's answer, and redelivery from the dead-letter queue", () => {
  it("keeps the start of every delivery's answer on its attempt (1 KiB), and the last one's 4 KiB on the record", async () => {
    const { fetch } = scriptedFetch((index) => new Response(index === 0 ? "x".repeat(5000) : "second", { status: index === 0 ? 503 : 200 }));
    const engine = new DeliveryEngine({ signingKey: QSTASH_DEV_CURRENT_SIGNING_KEY, retryDelayScale: 0, fetch });
    const { messageId } = await engine.publish({ destination, body: "{}" });
    await engine.idle();
    const record = engine.message(messageId)!;
    expect(record.attempts.map((a) => [a.status, a.body?.length])).toEqual([
      [503, 1024],
      [200, 6],
    ]);
    expect(record.attempts[1]!.body).toBe("second");
    expect(record.responseBody).toBe("second");
    await engine.close();
  });

  it("redeliver publishes the dead letter again (new id, same request, fresh retries) and takes it out of the queue", async () => {
    let healthy = false;
    const { calls, fetch } = scriptedFetch(() => (healthy ? new Response("done") : new Response("down", { status: 500 })));
    const engine = new DeliveryEngine({ signingKey: QSTASH_DEV_CURRENT_SIGNING_KEY, retryDelayScale: 0, fetch });
    const { messageId } = await engine.publish({ destination, body: '{"job":"quote"}', headers: { "Content-Type": "application/json" }, retries: 1 });
    await engine.idle();
    const [dead] = engine.deadLetters();
    expect(dead).toMatchObject({ messageId, state: "FAILED" });
    expect(calls).toHaveLength(2);

    healthy = true;
    const again = await engine.redeliver(dead!.dlqId!);
    expect(again).toMatch(/^msg_/);
    expect(again).not.toBe(messageId);
    await engine.idle();
    expect(engine.deadLetters()).toEqual([]);
    expect(calls).toHaveLength(3);
    expect(calls[2]).toMatchObject({ url: destination, body: '{"job":"quote"}' });
    expect(calls[2]!.headers.get("content-type")).toBe("application/json");
    expect(calls[2]!.headers.get("upstash-retried")).toBe("0");
    expect(engine.message(again!)).toMatchObject({ state: "DELIVERED", maxRetries: 1, redeliveryOf: messageId, responseBody: "done" });
    const old = engine.message(messageId)!;
    expect(old).toMatchObject({ state: "FAILED", redeliveredAs: again });
    expect(old.dlqId).toBeUndefined();

    expect(await engine.redeliver(dead!.dlqId!)).toBeUndefined();
    expect(await engine.redeliver("msg_unknown")).toBeUndefined();
    await engine.close();
    await expect(engine.redeliver(messageId)).rejects.toBeInstanceOf(DeliveryEngineClosedError);
  });

  it("a redelivered message that fails again goes back to the queue under a new dead-letter id", async () => {
    const { fetch } = scriptedFetch(() => new Response("still down", { status: 500 }));
    const engine = new DeliveryEngine({ signingKey: QSTASH_DEV_CURRENT_SIGNING_KEY, retryDelayScale: 0, fetch });
    await engine.publish({ destination, body: "x", retries: 0 });
    await engine.idle();
    const [first] = engine.deadLetters();
    const again = await engine.redeliver(first!.messageId);
    await engine.idle();
    const letters = engine.deadLetters();
    expect(letters.map((l) => l.messageId)).toEqual([again]);
    expect(letters[0]!.dlqId).not.toBe(first!.dlqId);
    expect(engine.deleteDeadLetter(letters[0]!.dlqId!)).toBe(true);
    expect(engine.deadLetters()).toEqual([]);
    await engine.close();
  });
});
