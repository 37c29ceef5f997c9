import { Receiver } from "@upstash/qstash";
import { describe, expect, it } from "vitest";
import { DeliveryEngine, type DeliveryEngineOptions } from "../../src/qstash/delivery.js";
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY } from "../../src/qstash/dev-credentials.js";
import { DeliveryEngineClosedError, QStashPublishError } from "../../src/qstash/errors.js";
import { parsePublishHeaders } from "../../packages/dev/src/qstash-server/publish-headers.js";

interface Call {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

/** A fetch that records calls and answers with `answer(call, index)`. */
function fakeFetch(answer: (call: Call, index: number) => Response | Promise<Response> = () => new Response("ok")) {
  const calls: Call[] = [];
  const impl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const call: Call = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: new Headers(init?.headers),
      body: init?.body === undefined ? "" : new TextDecoder().decode(init.body as Uint8Array),
    };
    calls.push(call);
    return answer(call, calls.length - 1);
  };
  return { calls, fetch: impl as typeof fetch };
}

function engineWith(fetchImpl: typeof fetch, options: Partial<DeliveryEngineOptions> = {}): DeliveryEngine {
  return new DeliveryEngine({ signingKey: QSTASH_DEV_CURRENT_SIGNING_KEY, retryDelayScale: 0, fetch: fetchImpl, ...options });
}

const destination = "http://127.0.0.1:9/hook?a=1";

describe("DeliveryEngine", () => {
  it("delivers once with the QStash headers and a signature the Receiver accepts", async () => {
    const { calls, fetch } = fakeFetch();
    const engine = engineWith(fetch);
    const result = await engine.publish({ destination, body: "hi", headers: { "Content-Type": "text/plain", "X-A": "1" } });
    expect(result).toEqual({ messageId: expect.stringMatching(/^msg_/), url: destination, deduplicated: false });
    await engine.idle();
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call!.url).toBe(destination);
    expect(call!.method).toBe("POST");
    expect(call!.body).toBe("hi");
    expect(call!.headers.get("content-type")).toBe("text/plain");
    expect(call!.headers.get("x-a")).toBe("1");
    expect(call!.headers.get("user-agent")).toBe("Upstash-QStash");
    expect(call!.headers.get("upstash-message-id")).toBe(result.messageId);
    expect(call!.headers.get("upstash-retried")).toBe("0");
    const receiver = new Receiver({
      currentSigningKey: QSTASH_DEV_CURRENT_SIGNING_KEY,
      nextSigningKey: QSTASH_DEV_NEXT_SIGNING_KEY,
    });
    expect(await receiver.verify({ signature: call!.headers.get("upstash-signature")!, body: "hi", url: destination })).toBe(
      true,
    );
    const record = engine.message(result.messageId)!;
    expect(record).toMatchObject({ state: "DELIVERED", body: "hi", method: "POST", maxRetries: 3, responseStatus: 200 });
    expect(record.attempts).toEqual([{ retried: 0, at: expect.any(Number), durationMs: expect.any(Number), status: 200, body: "ok" }]);
    await engine.close();
  });

  it("signs each retry afresh and counts Upstash-Retried up", async () => {
    const { calls, fetch } = fakeFetch((_call, index) => new Response(null, { status: index < 2 ? 502 : 204 }));
    const engine = engineWith(fetch);
    const { messageId } = await engine.publish({ destination, body: "x" });
    await engine.idle();
    expect(calls.map((call) => call.headers.get("upstash-retried"))).toEqual(["0", "1", "2"]);
    const signatures = new Set(calls.map((call) => call.headers.get("upstash-signature")));
    expect(signatures.size).toBe(3);
    expect(engine.message(messageId)?.state).toBe("DELIVERED");
    expect(engine.deadLetters()).toHaveLength(0);
    await engine.close();
  });

  it("dead-letters after the retry budget and on 489 + Upstash-NonRetryable-Error at once", async () => {
    const { calls, fetch } = fakeFetch((call) =>
      call.url.endsWith("/final")
        ? new Response("bad input", { status: 489, headers: { "Upstash-NonRetryable-Error": "true" } })
        : new Response("down", { status: 500 }),
    );
    const engine = engineWith(fetch, { defaultRetries: 1 });
    const spent = await engine.publish({ destination: "http://127.0.0.1:9/spent", body: "x" });
    const final = await engine.publish({ destination: "http://127.0.0.1:9/final", body: "x", retries: 5 });
    await engine.idle();
    expect(calls.filter((call) => call.url.endsWith("/spent"))).toHaveLength(2);
    expect(calls.filter((call) => call.url.endsWith("/final"))).toHaveLength(1);
    const letters = engine.deadLetters();
    expect(letters.map((letter) => letter.messageId).sort()).toEqual([spent.messageId, final.messageId].sort());
    expect(letters.every((letter) => letter.state === "FAILED" && typeof letter.dlqId === "string")).toBe(true);
    expect(engine.message(final.messageId)?.responseBody).toBe("bad input");
    expect(engine.deleteDeadLetter(spent.messageId)).toBe(true);
    expect(engine.deadLetters().map((letter) => letter.messageId)).toEqual([final.messageId]);
    await engine.close();
  });

  it("counts a thrown fetch and a timeout as failed deliveries", async () => {
    const { fetch } = fakeFetch(() => {
      throw new TypeError("fetch failed");
    });
    const engine = engineWith(fetch);
    const { messageId } = await engine.publish({ destination: "http://127.0.0.1:9/throws", body: "x", retries: 0 });
    await engine.idle();
    expect(engine.message(messageId)?.attempts).toEqual([
      { retried: 0, at: expect.any(Number), durationMs: expect.any(Number), error: "fetch failed" },
    ]);
    expect(engine.message(messageId)?.state).toBe("FAILED");

    const signalAware = engineWith(
      ((_input: RequestInfo | URL, init?: RequestInit) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        })) as typeof globalThis.fetch,
    );
    const slow = await signalAware.publish({ destination, body: "x", retries: 0, timeoutSeconds: 0.05 });
    await signalAware.idle();
    expect(signalAware.message(slow.messageId)?.attempts[0]?.error).toBe("timed out after 0.05s");
    await Promise.all([engine.close(), signalAware.close()]);
  });

  it("deduplicates by id and by content within the window only", async () => {
    let now = 1_000_000;
    const { calls, fetch } = fakeFetch();
    const engine = engineWith(fetch, { now: () => now, dedupWindowMs: 60_000 });
    const first = await engine.publish({ destination, body: "a", deduplicationId: "job-1" });
    const dup = await engine.publish({ destination, body: "b", deduplicationId: "job-1" });
    expect(dup).toEqual({ messageId: first.messageId, url: destination, deduplicated: true });

    const c1 = await engine.publish({ destination, body: "same", contentBasedDeduplication: true });
    const c2 = await engine.publish({ destination, body: "same", contentBasedDeduplication: true });
    const c3 = await engine.publish({
      destination,
      body: "same",
      contentBasedDeduplication: true,
      headers: { "Content-Type": "text/plain" },
    });
    const c4 = await engine.publish({ destination: `${destination}&b=2`, body: "same", contentBasedDeduplication: true });
    expect(c2.messageId).toBe(c1.messageId);
    expect(new Set([c1.messageId, c3.messageId, c4.messageId]).size).toBe(3);

    now += 60_001;
    const later = await engine.publish({ destination, body: "c", deduplicationId: "job-1" });
    expect(later.deduplicated).toBe(false);
    expect(later.messageId).not.toBe(first.messageId);
    await engine.idle();
    expect(calls).toHaveLength(5);
    await engine.close();
  });

  it("refuses bad input with QStashPublishError (400)", async () => {
    const engine = engineWith(fakeFetch().fetch);
    const cases = [
      { destination: "not a url", body: "" },
      { destination: "ftp://example.com/x", body: "" },
      { destination, body: "", method: "TRACE" },
      { destination, body: "", retries: -1 },
      { destination, body: "", retries: 1.5 },
      { destination, body: "", timeoutSeconds: 0 },
      { destination, body: "", delaySeconds: -1 },
      { destination, body: "", headers: { "Bad Header": "x" } },
    ];
    for (const input of cases) {
      const error = await engine.publish(input).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QStashPublishError);
      expect((error as QStashPublishError).status).toBe(400);
      expect((error as QStashPublishError).name).toBe("QStashPublishError");
    }
    expect(engine.messages()).toHaveLength(0);
    await engine.close();
  });

  it("does not deliver a GET with a body, and honours the method", async () => {
    const { calls, fetch } = fakeFetch();
    const engine = engineWith(fetch);
    await engine.publish({ destination, body: "ignored", method: "get" });
    await engine.publish({ destination, body: "kept", method: "DELETE" });
    await engine.idle();
    expect(calls.map((call) => [call.method, call.body]).sort()).toEqual([
      ["DELETE", "kept"],
      ["GET", ""],
    ]);
    await engine.close();
  });

  it("keeps binary bodies as bytes and shows them in base64", async () => {
    const { calls, fetch } = fakeFetch();
    const engine = engineWith(fetch);
    const bytes = new Uint8Array([0xff, 0x00, 0xfe]);
    const { messageId } = await engine.publish({ destination, body: bytes });
    await engine.idle();
    expect(engine.message(messageId)).toMatchObject({ bodyBase64: "/wD+" });
    expect(engine.message(messageId)?.body).toBeUndefined();
    expect(calls).toHaveLength(1);
    await engine.close();
  });

  it("caps the log, dropping the oldest finished messages first and never waiting ones", async () => {
    const { fetch } = fakeFetch();
    const engine = engineWith(fetch, { maxLogSize: 3, retryDelayScale: 1 });
    const waiting = await engine.publish({ destination, body: "later", delaySeconds: 3600 });
    const done: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      done.push((await engine.publish({ destination, body: String(index) })).messageId);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await waitUntil(() => engine.messages().filter((record) => record.state === "DELIVERED").length >= 2);
    const ids = engine.messages().map((record) => record.messageId);
    expect(ids).toHaveLength(3);
    expect(ids).toContain(waiting.messageId);
    expect(ids).toContain(done[3]);
    expect(ids).not.toContain(done[0]);
    expect(engine.message(waiting.messageId)?.state).toBe("CREATED");
    await engine.close();
  });

  it("cancels a waiting message; close aborts deliveries in flight and refuses new publishes", async () => {
    let started = 0;
    const engine = engineWith(((_input: RequestInfo | URL, init?: RequestInit) => {
      started += 1;
      return new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      });
    }) as typeof fetch, { retryDelayScale: 1 });
    const later = await engine.publish({ destination, body: "x", delaySeconds: 3600 });
    expect(engine.cancel(later.messageId)).toBe(true);
    expect(engine.cancel(later.messageId)).toBe(false);
    expect(engine.message(later.messageId)?.state).toBe("CANCELLED");

    const inFlight = await engine.publish({ destination, body: "x" });
    await waitUntil(() => started === 1);
    expect(engine.message(inFlight.messageId)?.state).toBe("ACTIVE");
    await engine.close();
    const record = engine.message(inFlight.messageId)!;
    expect(record.attempts).toHaveLength(1);
    expect(record.attempts[0]?.error).toBeTruthy();
    expect(record.state).toBe("CREATED");
    await expect(engine.publish({ destination, body: "x" })).rejects.toBeInstanceOf(DeliveryEngineClosedError);
    await engine.idle();
  });

  it("returns snapshots that cannot change the engine", async () => {
    const engine = engineWith(fakeFetch().fetch);
    const { messageId } = await engine.publish({ destination, body: "x", headers: { "X-A": "1" } });
    await engine.idle();
    const snapshot = engine.message(messageId)!;
    snapshot.headers["X-A"] = "changed";
    snapshot.attempts.length = 0;
    expect(engine.message(messageId)?.headers["X-A"]).toBe("1");
    expect(engine.message(messageId)?.attempts).toHaveLength(1);
    await engine.close();
  });
});

describe("parsePublishHeaders", () => {
  it("maps the client's headers to publish options", () => {
    const parsed = parsePublishHeaders([
      ["Content-Type", "application/json"],
      ["Upstash-Forward-My-Header", "v1"],
      ["upstash-forward-my-header", "v2"],
      ["Upstash-Method", "put"],
      ["Upstash-Delay", "5m"],
      ["Upstash-Retries", "2"],
      ["Upstash-Timeout", "30s"],
      ["Upstash-Deduplication-Id", "d1"],
      ["Upstash-Content-Based-Deduplication", "true"],
      ["Upstash-Callback", "https://example.com/cb"],
      ["Upstash-Telemetry-Sdk", "x"],
      ["Authorization", "Bearer t"],
      ["Host", "127.0.0.1"],
    ]);
    expect(parsed).toEqual({
      headers: { "Content-Type": "application/json", "My-Header": "v1, v2" },
      method: "PUT",
      delaySeconds: 300,
      retries: 2,
      timeoutSeconds: 30,
      deduplicationId: "d1",
      contentBasedDeduplication: true,
      unsupported: ["upstash-callback"],
    });
  });

  it("reads Upstash-Not-Before and refuses malformed option headers", () => {
    expect(parsePublishHeaders([["Upstash-Not-Before", "1700000000"]]).notBefore).toBe(1_700_000_000);
    for (const [name, value] of [
      ["Upstash-Delay", "soon"],
      ["Upstash-Retries", "-1"],
      ["Upstash-Retries", "three"],
      ["Upstash-Not-Before", "tomorrow"],
      ["Upstash-Timeout", "0s"],
    ] as const) {
      expect(() => parsePublishHeaders([[name, value]])).toThrow(QStashPublishError);
    }
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
