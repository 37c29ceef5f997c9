import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServers, startInspector, type DevServers, type Inspector } from "../../packages/dev/src/index.js";
import { Cacheback } from "../../src/cacheback.js";
import type { RefreshMessage } from "../../src/message.js";
import { closedPort, startRecordingReceiver, type RecordingReceiver } from "../helpers/recording-receiver.js";
import { eventually, randomPrefix } from "../helpers/wait.js";

// The inspector's HTTP side: where it listens, who may use it, and what its actions do.
const PREFIX = randomPrefix("inspector-http");

let servers: DevServers;
let inspector: Inspector;
let app: RecordingReceiver;
let refreshUrl: string;
let cb: Cacheback;

beforeAll(async () => {
  servers = await startDevServers({ redis: { port: 0 }, qstash: { port: 0, retryDelayScale: 0.001 } });
  app = await startRecordingReceiver();
  refreshUrl = `${app.url}/api/cacheback`;
  cb = new Cacheback({ redis: new Redis({ url: servers.redis.url, token: servers.redis.token }), prefix: PREFIX, nextCache: false });
  inspector = await startInspector({ port: 0, redis: servers.redis, qstash: servers.qstash, prefix: PREFIX, refreshUrl });
});

afterAll(async () => {
  await inspector?.close();
  await app?.close();
  await servers?.close();
});

/** A request with full control of its headers (fetch will not send another Host). */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: inspector.port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const own = () => ({ host: `127.0.0.1:${inspector.port}`, "x-inspector-token": inspector.token });
const action = (name: string, payload: unknown, headers: Record<string, string> = {}) =>
  send("POST", `/api/actions/${name}`, { ...own(), "content-type": "application/json", origin: `http://127.0.0.1:${inspector.port}`, "sec-fetch-site": "same-origin", ...headers }, JSON.stringify(payload));

describe("where the inspector listens", () => {
  it("on 127.0.0.1 only: another loopback address of the machine is refused", async () => {
    expect(inspector.url).toBe(`http://127.0.0.1:${inspector.port}/`);
    const refused = await new Promise<string>((resolve) => {
      const socket = connect({ host: "127.0.0.2", port: inspector.port });
      socket.once("connect", () => {
        socket.destroy();
        resolve("connected");
      });
      socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
    });
    expect(refused).toBe("ECONNREFUSED");
  });

  it("answers as 127.0.0.1 or localhost only (DNS rebinding: another Host is refused)", async () => {
    expect((await send("GET", "/", { host: `127.0.0.1:${inspector.port}` })).status).toBe(200);
    expect((await send("GET", "/", { host: `localhost:${inspector.port}` })).status).toBe(200);
    const rebound = await send("GET", "/", { host: `attacker.example:${inspector.port}` });
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain(inspector.token);
    expect((await send("GET", "/api/view", { ...own(), host: "attacker.example" })).status).toBe(421);
  });
});

describe("who may use it", () => {
  it("the page holds the token and may not be framed; scripts and styles come from the inspector only", async () => {
    const page = await send("GET", "/", own());
    expect(page.body).toContain(`<meta name="inspector-token" content="${inspector.token}">`);
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(page.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.headers["cache-control"]).toBe("no-store");
  });

  it("the API needs the token: without it, or with another, 403", async () => {
    expect((await send("GET", "/api/view", { host: own().host })).status).toBe(403);
    expect((await send("GET", "/api/view", { ...own(), "x-inspector-token": "guess" })).status).toBe(403);
    expect((await send("GET", "/api/value?key=x", { host: own().host })).status).toBe(403);
    expect((await send("GET", "/api/view", own())).status).toBe(200);
  });

  it("no cross-site request can act: no token, a foreign Origin, a cross-site fetch, a form's content type, a GET, a preflight", async () => {
    await cb.set(["doomed", 1], "still here", { lifetime: 60 });
    const key = cb.key(["doomed", 1]);
    const payload = { prefix: PREFIX, key };
    const refusals = [
      await send("POST", "/api/actions/delete", { host: own().host, "content-type": "application/json" }, JSON.stringify(payload)),
      await action("delete", payload, { "x-inspector-token": "guess" }),
      await action("delete", payload, { origin: "https://attacker.example" }),
      await action("delete", payload, { origin: "null" }),
      await action("delete", payload, { "sec-fetch-site": "cross-site" }),
      await action("delete", payload, { "sec-fetch-site": "same-site" }),
      await action("delete", payload, { "content-type": "text/plain" }),
      await action("delete", payload, { "content-type": "application/x-www-form-urlencoded" }),
      await send("GET", `/api/actions/delete?prefix=${encodeURIComponent(PREFIX)}&key=${encodeURIComponent(key)}`, own()),
      await send("OPTIONS", "/api/actions/delete", { host: own().host, origin: "https://attacker.example", "access-control-request-method": "POST", "access-control-request-headers": "x-inspector-token" }),
    ];
    expect(refusals.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403, 415, 415, 405, 405]);
    expect(refusals.every((r) => r.headers["access-control-allow-origin"] === undefined)).toBe(true);
    expect((await cb.peek(["doomed", 1])).value).toBe("still here");

    const done = await action("delete", payload);
    expect(done.status).toBe(200);
    expect((await cb.peek(["doomed", 1])).status).toBe("miss");
  });
});

describe("when Redis cannot be read", () => {
  it("the page still opens and says why; the API answers 502 with the reason", async () => {
    const port = await closedPort();
    const blind = await startInspector({ port: 0, redis: { url: `http://127.0.0.1:${port}`, token: "t" }, qstash: servers.qstash, prefix: PREFIX });
    try {
      const page = await fetch(blind.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/Cannot read Redis through the REST server: .*(fetch failed|ECONNREFUSED)/);
      const api = await fetch(`${blind.url}api/view`, { headers: { "x-inspector-token": blind.token } });
      expect(api.status).toBe(502);
      expect(((await api.json()) as { error: string }).error).toMatch(/^The inspector could not read Redis or QStash: /);
    } finally {
      await blind.close();
    }
  });
});

describe("what its actions do", () => {
  it("Invalidate marks the entry stale and publishes a refresh in the library's format to the app's refresh URL, keeping its lifetime and ttl", async () => {
    await cb.set(["quote", "ACME"], { price: 1 }, { lifetime: 120, ttl: 3600 });
    const result = await action("invalidate", { prefix: PREFIX, key: cb.key(["quote", "ACME"]) });
    expect(result.status).toBe(200);
    const { messageId, message } = JSON.parse(result.body) as { messageId: string; message: string };
    expect(message).toBe(`Marked stale; refresh queued as ${messageId} to ${refreshUrl}.`);
    expect((await cb.peek(["quote", "ACME"])).freshUntil).toBe(0);
    const record = servers.qstash.engine.message(messageId)!;
    expect(record.url).toBe(refreshUrl);
    const body = JSON.parse(record.body!) as RefreshMessage;
    expect(body).toMatchObject({ v: 1, job: "quote", args: ["ACME"], options: { lifetime: 120, ttl: 3600, refreshTimeout: 60 } });
    // Delivered signed, as QStash delivers, to the app's route.
    const [delivery] = await eventually("the delivery", async () => (app.requests("/api/cacheback").length > 0 ? app.requests("/api/cacheback") : undefined));
    expect(JSON.parse(delivery!.body)).toEqual(body);
    expect(delivery!.headers["upstash-signature"]).toMatch(/^ey/);
  });

  it("Invalidate of a hashed key marks it stale only and says so; nothing is published", async () => {
    const key = cb.key(["search", "q".repeat(300)]);
    await cb.set(["search", "q".repeat(300)], [1, 2], { lifetime: 60 });
    const before = servers.qstash.engine.messages().length;
    const result = await action("invalidate", { prefix: PREFIX, key });
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body).message).toMatch(/^Marked stale only: .* The app's next read of it serves it stale and queues the refresh\.$/);
    expect((await cb.peek(["search", "q".repeat(300)])).freshUntil).toBe(0);
    expect(servers.qstash.engine.messages()).toHaveLength(before);
  });

  it("View reads one value on demand, formatted, cut past 64 KiB unless the whole value is asked for", async () => {
    await cb.set(["doc", 1], { body: "z".repeat(100_000) }, { lifetime: 60 });
    const view = async (full: boolean) =>
      JSON.parse((await send("GET", `/api/value?prefix=${encodeURIComponent(PREFIX)}&key=${encodeURIComponent(cb.key(["doc", 1]))}${full ? "&full=1" : ""}`, own())).body) as { text: string; truncated: boolean; length: number; meta: string };
    const cut = await view(false);
    expect(cut).toMatchObject({ truncated: true, length: 100_016 });
    expect(cut.text).toHaveLength(65_536);
    expect(cut.text.startsWith('{\n  "body": "zzz')).toBe(true);
    expect(JSON.parse(cut.meta)).toMatchObject({ writtenAt: expect.any(Number), freshUntil: expect.any(Number) });
    expect(await view(true)).toMatchObject({ truncated: false, text: JSON.stringify({ body: "z".repeat(100_000) }, null, 2) });
  });

  it("Redeliver republishes a dead letter and Drop removes one", async () => {
    app.on("/refuse", () => ({ status: 489, headers: { "Upstash-NonRetryable-Error": "true" }, body: "no" }));
    const { messageId } = await servers.qstash.engine.publish({ destination: `${app.url}/refuse`, body: "{}" });
    await eventually("the dead letter", async () => servers.qstash.engine.deadLetters().some((m) => m.messageId === messageId));
    const redelivered = await action("redeliver", { id: messageId });
    expect(redelivered.status).toBe(200);
    const again = (JSON.parse(redelivered.body) as { messageId: string }).messageId;
    await eventually("the redelivery's dead letter", async () => servers.qstash.engine.deadLetters().some((m) => m.messageId === again));
    expect(app.requests("/refuse")).toHaveLength(2);
    expect((await action("drop", { id: again })).status).toBe(200);
    expect(servers.qstash.engine.deadLetters().some((m) => m.messageId === again)).toBe(false);
    expect((await action("drop", { id: again })).status).toBe(409);
  });
});
