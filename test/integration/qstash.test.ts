import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, QstashError, Receiver, SignatureError } from "@upstash/qstash";
import { decodeJwt, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQStashServer, type QStashServer } from "../../packages/dev/src/qstash-server.js";
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY } from "../../src/qstash/dev-credentials.js";
import { signQStashMessage } from "../../src/qstash/signing.js";
import {
  closedPort,
  startRecordingReceiver,
  waitFor,
  type ReceivedRequest,
  type RecordingReceiver,
} from "../helpers/recording-receiver.js";

const SCALE = 0.001;
const run = Math.random().toString(36).slice(2, 10);

let server: QStashServer;
let receiver: RecordingReceiver;
let client: Client;
let verifier: Receiver;
const logLines: string[] = [];

/** A path of its own on the receiver for one test. */
const hook = (name: string) => `/${run}/${name}`;

function header(request: ReceivedRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(", ") : value;
}

async function verify(request: ReceivedRequest, url: string, body = request.body): Promise<boolean> {
  return verifier.verify({ signature: header(request, "upstash-signature") ?? "", body, url });
}

async function api(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token !== null) headers.set("Authorization", `Bearer ${init.token ?? server.token}`);
  return fetch(`${server.url}${path}`, { ...init, headers });
}

beforeAll(async () => {
  server = await startQStashServer({ port: 0, retryDelayScale: SCALE, log: (line) => logLines.push(line) });
  receiver = await startRecordingReceiver();
  client = new Client({ baseUrl: server.url, token: server.token, retry: false });
  verifier = new Receiver({ currentSigningKey: server.currentSigningKey, nextSigningKey: server.nextSigningKey });
});

afterAll(async () => {
  await server?.close();
  await receiver?.close();
});

describe("publish and delivery", () => {
  it("delivers publishJSON with the body, content type and QStash headers, signed so Receiver accepts it", async () => {
    const path = hook("json");
    const destination = `${receiver.url}${path}`;
    const published = await client.publishJSON({ url: destination, body: { hello: "world", n: 1 } });
    expect(published.messageId).toMatch(/^msg_/);
    expect(published.url).toBe(destination);

    const [request] = await waitFor("one delivery", () => (receiver.requests(path).length === 1 ? receiver.requests(path) : false));
    expect(request!.method).toBe("POST");
    expect(request!.url).toBe(path);
    expect(request!.body).toBe('{"hello":"world","n":1}');
    expect(header(request!, "content-type")).toBe("application/json");
    expect(header(request!, "user-agent")).toBe("Upstash-QStash");
    expect(header(request!, "upstash-message-id")).toBe(published.messageId);
    expect(header(request!, "upstash-retried")).toBe("0");
    expect(header(request!, "authorization")).toBeUndefined();
    expect(header(request!, "upstash-telemetry-sdk")).toBeUndefined();
    expect(await verify(request!, destination)).toBe(true);

    const claims = decodeJwt(header(request!, "upstash-signature")!);
    expect(claims.iss).toBe("Upstash");
    expect(claims.sub).toBe(destination);
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(claims.nbf).toBe(claims.iat);
    expect(claims.jti).toMatch(/^jwt_/);

    await server.engine.idle();
    expect(server.engine.message(published.messageId)?.state).toBe("DELIVERED");
  });

  it("produces signatures Receiver rejects for a tampered body, a wrong key pair, a wrong url or an expired token", async () => {
    const path = hook("reject");
    const destination = `${receiver.url}${path}`;
    await client.publish({ url: destination, body: "exact body", headers: { "Content-Type": "text/plain" } });
    const [request] = await waitFor("one delivery", () => (receiver.requests(path).length === 1 ? receiver.requests(path) : false));
    expect(request!.body).toBe("exact body");
    expect(header(request!, "content-type")).toBe("text/plain");
    await expect(verify(request!, destination, "exact body!")).rejects.toThrow(/body hash does not match/);
    await expect(verify(request!, `${destination}/other`)).rejects.toThrow(/invalid subject/);
    const stranger = new Receiver({
      currentSigningKey: "sig_aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      nextSigningKey: "sig_bbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    });
    await expect(
      stranger.verify({ signature: header(request!, "upstash-signature")!, body: request!.body, url: destination }),
    ).rejects.toThrow();

    const expired = await signQStashMessage({
      signingKey: server.currentSigningKey,
      url: destination,
      body: "exact body",
      nowSeconds: Math.floor(Date.now() / 1000) - 3600,
    });
    await expect(verifier.verify({ signature: expired, body: "exact body", url: destination })).rejects.toThrow(
      SignatureError,
    );
    // The Receiver reports the next key's failure last; the current key rejects it for its expiry.
    await expect(jwtVerify(expired, new TextEncoder().encode(server.currentSigningKey))).rejects.toThrow(/"exp"/);
    const fresh = await signQStashMessage({ signingKey: server.currentSigningKey, url: destination, body: "exact body" });
    expect(await verifier.verify({ signature: fresh, body: "exact body", url: destination })).toBe(true);
  });

  it("delivers Upstash-Forward-* headers unprefixed and honours Upstash-Method", async () => {
    const path = hook("forward");
    const destination = `${receiver.url}${path}`;
    await client.publish({
      url: destination,
      method: "PUT",
      body: "payload",
      headers: { "My-Header": "my value", "X-Trace": "abc", "Content-Type": "text/plain" },
    });
    const [request] = await waitFor("one delivery", () => (receiver.requests(path).length === 1 ? receiver.requests(path) : false));
    expect(request!.method).toBe("PUT");
    expect(header(request!, "my-header")).toBe("my value");
    expect(header(request!, "x-trace")).toBe("abc");
    expect(header(request!, "upstash-forward-my-header")).toBeUndefined();
    expect(header(request!, "upstash-method")).toBeUndefined();
    expect(await verify(request!, destination)).toBe(true);
  });

  it("delivers a message with a deduplication id once and answers the duplicate with deduplicated: true", async () => {
    const path = hook("dedup-id");
    const destination = `${receiver.url}${path}`;
    const first = await client.publishJSON({ url: destination, body: { n: 1 }, deduplicationId: `${run}-dedup` });
    const second = await client.publishJSON({ url: destination, body: { n: 2 }, deduplicationId: `${run}-dedup` });
    expect(first.deduplicated).toBeUndefined();
    expect(second).toEqual({ messageId: first.messageId, url: destination, deduplicated: true });

    const raw = await api(`/v2/publish/${destination}`, {
      method: "POST",
      body: "x",
      headers: { "Upstash-Deduplication-Id": `${run}-dedup` },
    });
    expect(raw.status).toBe(202);

    await server.engine.idle();
    expect(receiver.requests(path)).toHaveLength(1);
    expect(receiver.requests(path)[0]!.body).toBe('{"n":1}');
  });

  it("deduplicates on content with contentBasedDeduplication, and not across different bodies", async () => {
    const path = hook("dedup-content");
    const destination = `${receiver.url}${path}`;
    const first = await client.publishJSON({ url: destination, body: { same: true }, contentBasedDeduplication: true });
    const again = await client.publishJSON({ url: destination, body: { same: true }, contentBasedDeduplication: true });
    const other = await client.publishJSON({ url: destination, body: { same: false }, contentBasedDeduplication: true });
    expect(again.messageId).toBe(first.messageId);
    expect(again.deduplicated).toBe(true);
    expect(other.messageId).not.toBe(first.messageId);
    expect(other.deduplicated).toBeUndefined();
    await server.engine.idle();
    expect(receiver.requests(path).map((request) => request.body).sort()).toEqual(['{"same":false}', '{"same":true}']);
  });
});

describe("retries and the dead-letter queue", () => {
  it("retries a 500 until the destination answers 200, with Upstash-Retried 0, 1, 2 and one signature each", async () => {
    const path = hook("flaky");
    const destination = `${receiver.url}${path}`;
    receiver.on(path, (_request, index) => (index < 2 ? { status: 500, body: "boom" } : { status: 200 }));
    const { messageId } = await client.publishJSON({ url: destination, body: { flaky: true } });
    await waitFor("the message to be delivered", () => server.engine.message(messageId)?.state === "DELIVERED");
    const requests = receiver.requests(path);
    expect(requests.map((request) => header(request, "upstash-retried"))).toEqual(["0", "1", "2"]);
    expect(new Set(requests.map((request) => header(request, "upstash-message-id")))).toEqual(new Set([messageId]));
    for (const request of requests) expect(await verify(request, destination)).toBe(true);
    const record = server.engine.message(messageId)!;
    expect(record.attempts.map((attempt) => attempt.status)).toEqual([500, 500, 200]);
    expect(record.dlqId).toBeUndefined();
  });

  it("dead-letters a message after 1 + retries failed deliveries; the client lists it in the DLQ", async () => {
    const path = hook("always-500");
    const destination = `${receiver.url}${path}`;
    receiver.on(path, () => ({ status: 500, body: "still broken" }));
    const { messageId } = await client.publishJSON({ url: destination, body: { doomed: true }, retries: 2 });
    await waitFor("the message to fail", () => server.engine.message(messageId)?.state === "FAILED");
    expect(receiver.requests(path)).toHaveLength(3);

    const { messages } = await client.dlq.listMessages();
    const letter = messages.find((message) => message.messageId === messageId);
    expect(letter).toBeDefined();
    expect(letter!.url).toBe(destination);
    expect(letter!.responseStatus).toBe(500);
    expect(letter!.responseBody).toBe("still broken");
    expect(letter!.dlqId).toBeTruthy();
    expect(server.engine.deadLetters().map((record) => record.messageId)).toContain(messageId);
  });

  it("uses 3 retries (4 deliveries) by default", async () => {
    const path = hook("default-retries");
    receiver.on(path, () => ({ status: 503, headers: { "Retry-After": "0" } }));
    const { messageId } = await client.publish({ url: `${receiver.url}${path}`, body: "x" });
    await waitFor("the message to fail", () => server.engine.message(messageId)?.state === "FAILED");
    expect(receiver.requests(path).map((request) => header(request, "upstash-retried"))).toEqual(["0", "1", "2", "3"]);
    expect(server.engine.message(messageId)?.maxRetries).toBe(3);
  });

  it("dead-letters at once on 489 with Upstash-NonRetryable-Error: true", async () => {
    const path = hook("non-retryable");
    receiver.on(path, () => ({ status: 489, headers: { "Upstash-NonRetryable-Error": "true" }, body: "unknown job" }));
    const { messageId } = await client.publishJSON({ url: `${receiver.url}${path}`, body: { job: "nope" } });
    await waitFor("the message to fail", () => server.engine.message(messageId)?.state === "FAILED");
    await server.engine.idle();
    expect(receiver.requests(path)).toHaveLength(1);
    expect(server.engine.deadLetters().filter((record) => record.messageId === messageId)).toHaveLength(1);
    expect(server.engine.message(messageId)?.responseBody).toBe("unknown job");
  });

  it("retries a 489 without the non-retryable header like any failure", async () => {
    const path = hook("plain-489");
    receiver.on(path, (_request, index) => (index === 0 ? { status: 489 } : { status: 200 }));
    const { messageId } = await client.publish({ url: `${receiver.url}${path}`, body: "x" });
    await waitFor("the message to be delivered", () => server.engine.message(messageId)?.state === "DELIVERED");
    expect(receiver.requests(path)).toHaveLength(2);
  });

  it("retries a destination that refuses connections, then dead-letters it", async () => {
    const destination = `http://127.0.0.1:${await closedPort()}/refused`;
    const { messageId } = await client.publish({ url: destination, body: "x", retries: 1 });
    await waitFor("the message to fail", () => server.engine.message(messageId)?.state === "FAILED");
    const record = server.engine.message(messageId)!;
    expect(record.attempts).toHaveLength(2);
    expect(record.attempts.map((attempt) => attempt.retried)).toEqual([0, 1]);
    for (const attempt of record.attempts) {
      expect(attempt.status).toBeUndefined();
      expect(attempt.error).toMatch(/ECONNREFUSED|fetch failed/);
    }
    expect(record.dlqId).toBeTruthy();
  });

  it("honours Retry-After (scaled) instead of the back-off", async () => {
    const path = hook("retry-after");
    receiver.on(path, (_request, index) => (index === 0 ? { status: 429, headers: { "Retry-After": "400" } } : { status: 200 }));
    const { messageId } = await client.publish({ url: `${receiver.url}${path}`, body: "x" });
    await waitFor("the message to be delivered", () => server.engine.message(messageId)?.state === "DELIVERED");
    const [first, second] = receiver.requests(path);
    // 400 s scaled by 0.001 = 400 ms; the first back-off step would be ~12 ms.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(395);
  });
});

describe("delays, batch, cancel and the log", () => {
  it("does not deliver before the (scaled) delay or notBefore", async () => {
    const delayed = hook("delay");
    const notBefore = hook("not-before");
    const started = Date.now();
    const a = await client.publish({ url: `${receiver.url}${delayed}`, body: "later", delay: 300 });
    // Read at once: while the 300 ms (scaled) have not passed, the message must still wait. (Checking
    // later, after another publish, raced the engine's timer on a busy machine.)
    const stateOfA = server.engine.message(a.messageId)?.state;
    if (Date.now() - started < 300) expect(stateOfA).toBe("CREATED");
    const b = await client.publish({
      url: `${receiver.url}${notBefore}`,
      body: "later",
      notBefore: Math.floor(Date.now() / 1000) + 400,
    });
    const [first] = await waitFor("the delayed delivery", () => (receiver.requests(delayed).length ? receiver.requests(delayed) : false));
    const [second] = await waitFor("the notBefore delivery", () =>
      receiver.requests(notBefore).length ? receiver.requests(notBefore) : false,
    );
    expect(first!.at - started).toBeGreaterThanOrEqual(295);
    // notBefore has a 1 s resolution: at least 399 s, scaled.
    expect(second!.at - started).toBeGreaterThanOrEqual(395 - 1000 * SCALE);
    // The receiver sees the request before the engine has read the answer and recorded it: wait for the record.
    await waitFor("the notBefore message to be recorded as delivered", () => server.engine.message(b.messageId)?.state === "DELIVERED");
    expect(server.engine.message(b.messageId)?.state).toBe("DELIVERED");
  });

  it("publishes a batch and delivers every message", async () => {
    const one = hook("batch-one");
    const two = hook("batch-two");
    const results = await client.batchJSON([
      { url: `${receiver.url}${one}`, body: { item: 1 }, headers: { "X-Item": "1" } },
      { url: `${receiver.url}${two}`, body: { item: 2 }, method: "PATCH" },
    ]);
    expect(results).toHaveLength(2);
    const ids = results.map((result) => (result as { messageId: string }).messageId);
    expect(ids[0]).not.toBe(ids[1]);
    await server.engine.idle();
    const [first] = receiver.requests(one);
    const [second] = receiver.requests(two);
    expect(first!.body).toBe('{"item":1}');
    expect(header(first!, "x-item")).toBe("1");
    expect(header(first!, "content-type")).toBe("application/json");
    expect(second!.method).toBe("PATCH");
    expect(await verify(first!, `${receiver.url}${one}`)).toBe(true);
  });

  it("cancels a waiting message", async () => {
    const path = hook("cancel");
    const { messageId } = await client.publish({ url: `${receiver.url}${path}`, body: "x", delay: 200 });
    expect(await client.messages.cancel(messageId)).toEqual({ cancelled: 1 });
    await server.engine.idle();
    expect(server.engine.message(messageId)?.state).toBe("CANCELLED");
    expect(receiver.requests(path)).toHaveLength(0);
  });

  it("lists the log newest first at GET /v2/messages and one message at GET /v2/messages/<id>", async () => {
    const path = hook("log");
    const first = await client.publish({ url: `${receiver.url}${path}`, body: "first" });
    const second = await client.publish({ url: `${receiver.url}${path}`, body: "second" });
    await server.engine.idle();
    const response = await api("/v2/messages");
    expect(response.status).toBe(200);
    const { messages } = (await response.json()) as { messages: Array<{ messageId: string; state: string; body: string }> };
    const ids = messages.map((message) => message.messageId);
    expect(ids.indexOf(second.messageId)).toBeLessThan(ids.indexOf(first.messageId));
    expect(messages.find((message) => message.messageId === first.messageId)).toMatchObject({
      state: "DELIVERED",
      body: "first",
    });
    const one = await client.messages.get(second.messageId);
    expect(one.messageId).toBe(second.messageId);
    expect(one.url).toBe(`${receiver.url}${path}`);
    expect(one.body).toBe("second");
  });

  it("accepts a destination sent percent-encoded as a whole, decoding it once", async () => {
    const path = hook("encoded");
    const destination = `${receiver.url}${path}?q=a%2Fb`;
    const response = await api(`/v2/publish/${encodeURIComponent(destination)}`, { method: "POST", body: "enc" });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { url: string }).url).toBe(destination);
    const [request] = await waitFor("one delivery", () => (receiver.requests(path).length ? receiver.requests(path) : false));
    expect(request!.url).toBe(`${path}?q=a%2Fb`);
  });

  it("delivers to a destination with a query string, percent-escapes and // exactly as published", async () => {
    const path = hook("exact");
    const destination = `${receiver.url}${path}//a%20b/caf%C3%A9?x=1&y=%2F&z=a+b`;
    const published = await client.publish({ url: destination, body: "exact" });
    expect(published.url).toBe(destination);
    const [request] = await waitFor("one delivery", () => (receiver.requests(path).length ? receiver.requests(path) : false));
    expect(request!.url).toBe(`${path}//a%20b/caf%C3%A9?x=1&y=%2F&z=a+b`);
    expect(decodeJwt(header(request!, "upstash-signature")!).sub).toBe(destination);
    expect(await verify(request!, destination)).toBe(true);
  });
});

describe("the HTTP surface", () => {
  it("rejects a wrong token: the client throws QstashError with status 401", async () => {
    const stranger = new Client({ baseUrl: server.url, token: "not-the-token", retry: false });
    const error = await stranger.publishJSON({ url: `${receiver.url}${hook("never")}`, body: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QstashError);
    expect((error as QstashError).status).toBe(401);
    expect(JSON.parse((error as QstashError).message)).toEqual({ error: expect.stringMatching(/^Unauthorized/) });

    const missing = await api("/v2/keys", { token: null });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: string }).error).toMatch(/missing Authorization/);
    expect(receiver.requests(hook("never"))).toHaveLength(0);
  });

  it("answers GET /v2/keys with the signing keys (the dev keys by default)", async () => {
    const response = await api("/v2/keys");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ current: QSTASH_DEV_CURRENT_SIGNING_KEY, next: QSTASH_DEV_NEXT_SIGNING_KEY });
  });

  it("answers 400, 404, 405 and 413 with a JSON error and keeps serving", async () => {
    const notUrl = await api("/v2/publish/not-a-url", { method: "POST", body: "x" });
    expect(notUrl.status).toBe(400);
    expect(((await notUrl.json()) as { error: string }).error).toMatch(/invalid destination url/);

    const ftp = await api("/v2/publish/ftp://example.com/file", { method: "POST", body: "x" });
    expect(ftp.status).toBe(400);

    const badDelay = await api(`/v2/publish/${receiver.url}${hook("bad")}`, {
      method: "POST",
      body: "x",
      headers: { "Upstash-Delay": "soon" },
    });
    expect(badDelay.status).toBe(400);
    expect(((await badDelay.json()) as { error: string }).error).toMatch(/Upstash-Delay/);

    const badBatch = await api("/v2/batch", { method: "POST", body: "[{not json", headers: { "Content-Type": "application/json" } });
    expect(badBatch.status).toBe(400);
    expect(((await badBatch.json()) as { error: string }).error).toMatch(/malformed JSON/);

    const notArray = await api("/v2/batch", { method: "POST", body: '{"destination":"x"}' });
    expect(notArray.status).toBe(400);

    const unknown = await api("/v2/nothing-here");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toHaveProperty("error");

    const outside = await fetch(`${server.url}/elsewhere`);
    expect(outside.status).toBe(404);

    const wrongMethod = await api("/v2/keys", { method: "POST" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET");

    const tooLarge = await api(`/v2/publish/${receiver.url}${hook("big")}`, {
      method: "POST",
      body: "x".repeat(1_048_577),
    });
    expect(tooLarge.status).toBe(413);

    const unknownMessage = await api("/v2/messages/msg_nope");
    expect(unknownMessage.status).toBe(404);
    const malformedId = await api("/v2/messages/%E0%A4%A");
    expect(malformedId.status).toBe(404);

    await server.engine.idle();
    expect(receiver.requests(hook("bad"))).toHaveLength(0);
    expect(receiver.requests(hook("big"))).toHaveLength(0);
    expect((await api("/v2/keys")).status).toBe(200);
  });

  it("serves a human-readable page at GET /", async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/html/);
    const page = await response.text();
    expect(page).toContain("Dead-letter queue");
    expect(page).toContain(hook("json"));
  });
});

describe("the client's dev mode", () => {
  it("publishes with new Client() and verifies with new Receiver() offline, against this server", async () => {
    const dev = await startQStashServer({ port: 0, retryDelayScale: SCALE });
    const home = mkdtempSync(join(tmpdir(), "qstash-dev-home-"));
    try {
      const script = `
        import http from "node:http";
        import { Client, Receiver } from "@upstash/qstash";
        let url = "";
        let done;
        const got = new Promise((resolve) => { done = resolve; });
        const destination = http.createServer((req, res) => {
          const chunks = [];
          req.on("data", (chunk) => chunks.push(chunk));
          req.on("end", async () => {
            const body = Buffer.concat(chunks).toString("utf8");
            let verified = false;
            let error;
            try {
              verified = await new Receiver().verify({ signature: req.headers["upstash-signature"], body, url });
            } catch (e) {
              error = String(e);
            }
            res.end("ok");
            done({ verified, error, body });
          });
        });
        await new Promise((resolve) => destination.listen(0, "127.0.0.1", resolve));
        url = "http://127.0.0.1:" + destination.address().port + "/dev-mode";
        const published = await new Client().publishJSON({ url, body: { hello: "dev mode" } });
        const result = await got;
        console.log("RESULT " + JSON.stringify({ ...result, messageId: published.messageId }));
        destination.close();
        process.exit(0);
      `;
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const name of Object.keys(env)) if (name.startsWith("QSTASH_")) delete env[name];
      Object.assign(env, {
        QSTASH_DEV: "true",
        QSTASH_DEV_PORT: String(dev.port),
        NODE_ENV: "development",
        HOME: home,
        XDG_CACHE_HOME: join(home, ".cache"),
      });
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
        cwd: process.cwd(),
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
        child.on("close", (exitCode) => {
          clearTimeout(timer);
          resolve(exitCode);
        });
      });
      expect({ code, stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect(stdout).toContain("Server already running");
      expect(stdout).not.toMatch(/Downloading/);
      const line = stdout.split("\n").find((text) => text.startsWith("RESULT "));
      expect(line).toBeDefined();
      const result = JSON.parse(line!.slice("RESULT ".length)) as {
        verified: boolean;
        error?: string;
        body: string;
        messageId: string;
      };
      expect(result).toMatchObject({ verified: true, body: '{"hello":"dev mode"}' });
      // The script has the delivery once its receiver has the request; the engine records the answer after.
      await waitFor("the delivery to be recorded", () => dev.engine.message(result.messageId)?.state === "DELIVERED");
      expect(dev.engine.message(result.messageId)?.state).toBe("DELIVERED");
    } finally {
      await dev.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
