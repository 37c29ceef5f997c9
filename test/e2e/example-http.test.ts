import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cacheback } from "../../src/cacheback.js";
import { startDevServers, type DevServers } from "../../packages/dev/src/index.js";
import type { RefreshMessage } from "../../src/message.js";
import type { MessageView } from "../../packages/dev/src/qstash-server/views.js";
import { signQStashMessage } from "../../src/qstash/signing.js";
import { eventually, randomPrefix } from "../helpers/wait.js";
import { startExample, type ExampleServer } from "./example-app.js";
import { loadQuotePage } from "./page.js";

// The example under `next start`, on the dev Upstash REST server (bridged to the real redis-server) and the
// dev QStash server: the official clients inside the app, real signatures, real HTTP deliveries.
const DELAY_MS = 2500; // the slow source
const LIFETIME_S = 3;
const PREFIX = randomPrefix("e2e-http");

let servers: DevServers;
let app: ExampleServer;
let refreshUrl: string;
/** Reads the entries the app writes (same Redis, same prefix) without side effects. */
let observer: Cacheback;

beforeAll(async () => {
  servers = await startDevServers({ redis: { port: 0 }, qstash: { port: 0, retryDelayScale: 0.001 } });
  app = await startExample((port) => {
    refreshUrl = `http://127.0.0.1:${port}/api/cacheback`;
    return {
      ...servers.env,
      CACHEBACK_REFRESH_URL: refreshUrl,
      CACHEBACK_PREFIX: PREFIX,
      EXAMPLE_SOURCE_DELAY_MS: String(DELAY_MS),
      EXAMPLE_LIFETIME: String(LIFETIME_S),
      EXAMPLE_FAILING_SYMBOLS: "DOWN",
      // 200 concurrent renders saturate a 2-core machine's event loop, so a 1 s read timeout can fire
      // before the answer (already there) is processed; these tests are about the stampede, not timeouts.
      CACHEBACK_READ_TIMEOUT: "15",
    };
  });
  observer = new Cacheback({ redis: new Redis({ url: servers.redis.url, token: servers.redis.token }), prefix: PREFIX });
});

afterAll(async () => {
  await app?.close();
  await servers?.close();
});

/** The QStash server's message log, over its HTTP API, for the refresh of one symbol's quote. */
async function quoteMessages(symbol: string, list: "messages" | "dlq" = "messages"): Promise<MessageView[]> {
  const response = await fetch(`${servers.qstash.url}/v2/${list}`, { headers: { authorization: `Bearer ${servers.qstash.token}` } });
  expect(response.status).toBe(200);
  const { messages } = (await response.json()) as { messages: MessageView[] };
  return messages.filter((m) => {
    if (m.url !== refreshUrl || m.body === undefined) return false;
    const body = JSON.parse(m.body) as RefreshMessage;
    return body.job === "quote" && body.args[0] === symbol;
  });
}

const waitForStale = (symbol: string) =>
  eventually(`${symbol} to go stale`, async () => (await observer.peek(["quote", symbol])).status === "stale", (LIFETIME_S + 10) * 1000);

describe("example-next-app under next start, on next-cacheback dev and the real redis-server", () => {
  let first: Awaited<ReturnType<typeof loadQuotePage>>;

  it("1. a cold key is fetched during the request: status miss, after the slow source's latency", async () => {
    first = await loadQuotePage(app.origin, "ACME");
    expect(first.httpStatus).toBe(200);
    expect(first).toMatchObject({ status: "miss", label: "miss", version: 1 });
    expect(first.price).toMatch(/^\$\d+\.\d\d$/);
    expect(first.elapsedMs).toBeGreaterThanOrEqual(DELAY_MS - 50);
    // The write-back is the request's background work: it may land just after the page is served.
    const stored = await eventually("the write-back of ACME", async () => {
      const entry = await observer.peek<{ version: number; price: number }>(["quote", "ACME"]);
      return entry.status === "hit" ? entry : undefined;
    });
    expect(stored.status).toBe("hit");
    expect(stored.value?.version).toBe(1);
    expect(await quoteMessages("ACME")).toHaveLength(0);
  });

  it("2. past the lifetime: the OLD value at once, status stale, and exactly one signed delivery answered 200", async () => {
    await waitForStale("ACME");
    const stale = await loadQuotePage(app.origin, "ACME");
    expect(stale).toMatchObject({ httpStatus: 200, status: "stale", label: "stale, refresh queued", version: 1, price: first.price });
    expect(stale.fetchedAt).toBe(first.fetchedAt);
    expect(stale.elapsedMs).toBeLessThan(DELAY_MS / 2.5);

    const delivered = await eventually(
      "the refresh delivery",
      async () => {
        const messages = await quoteMessages("ACME");
        return messages.length === 1 && messages[0]!.state === "DELIVERED" ? messages : undefined;
      },
      DELAY_MS + 10_000,
    );
    const [message] = delivered;
    expect(message!.attempts).toHaveLength(1);
    // The route verifies the QStash signature (current key, URL claim) before running anything: a 200 is
    // a delivery whose signature it accepted.
    expect(message!.attempts[0]!.status).toBe(200);
    expect(JSON.parse(message!.responseBody ?? "{}")).toMatchObject({ ok: true, job: "quote", status: "written" });
    expect(message!.url).toBe(refreshUrl);
    expect(await quoteMessages("ACME")).toHaveLength(1);
  });

  it("3. the next request returns the NEW value, status fresh", async () => {
    const fresh = await loadQuotePage(app.origin, "ACME");
    expect(fresh).toMatchObject({ httpStatus: 200, status: "hit", label: "fresh", version: 2 });
    expect(fresh.fetchedAt).not.toBe(first.fetchedAt);
    expect(fresh.elapsedMs).toBeLessThan(DELAY_MS / 2.5);
    const json = (await (await fetch(`${app.origin}/api/quotes/ACME`)).json()) as { status: string; value: { version: number } };
    expect(json).toMatchObject({ status: "hit", value: { version: 2 } });
    expect(await quoteMessages("ACME")).toHaveLength(1);
  });

  it("4. 200 concurrent requests on a stale page: every one served at once, one delivery, one source call", async () => {
    const cold = await loadQuotePage(app.origin, "GLOBEX");
    expect(cold).toMatchObject({ status: "miss", version: 1 });
    await waitForStale("GLOBEX");

    const pages = await Promise.all(Array.from({ length: 200 }, () => loadQuotePage(app.origin, "GLOBEX")));
    expect(pages.map((p) => p.httpStatus)).toEqual(Array(200).fill(200));
    const stale = pages.filter((p) => p.status === "stale");
    expect(stale.length).toBeGreaterThan(0);
    for (const page of stale) expect(page).toMatchObject({ version: 1, price: cold.price });
    // Any page rendered after the refresh landed shows the new version, fresh.
    for (const page of pages.filter((p) => p.status !== "stale")) expect(page).toMatchObject({ status: "hit", version: 2 });

    await eventually("the GLOBEX delivery", async () => (await quoteMessages("GLOBEX"))[0]?.state === "DELIVERED", DELAY_MS + 10_000);
    await servers.qstash.engine.idle();
    const messages = await quoteMessages("GLOBEX");
    expect(messages).toHaveLength(1);
    expect(messages[0]!.attempts.map((a) => a.status)).toEqual([200]);
    const after = await observer.peek<{ version: number }>(["quote", "GLOBEX"]);
    expect(after).toMatchObject({ status: "hit", value: { version: 2 } });
  });

  it("5. a POST to the refresh route without a valid signature: 401, and the entry is unchanged", async () => {
    const before = await observer.peek(["quote", "ACME"]);
    expect(before.status).not.toBe("miss");
    const message: RefreshMessage = {
      v: 1,
      job: "quote",
      args: ["ACME"],
      lock: "forged",
      queuedAt: Date.now(),
      options: { lifetime: 3600, ttl: 3600, refreshTimeout: 60 },
    };
    const body = JSON.stringify(message);
    const post = (headers: Record<string, string>) =>
      fetch(refreshUrl, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

    const unsigned = await post({});
    expect(unsigned.status).toBe(401);
    const wrongKey = await post({ "upstash-signature": await signQStashMessage({ signingKey: "sig_not_the_apps_key", url: refreshUrl, body }) });
    expect(wrongKey.status).toBe(401);
    // The right key, but signed for another destination: the URL claim must be the configured refresh URL.
    const elsewhere = await post({
      "upstash-signature": await signQStashMessage({ signingKey: servers.qstash.currentSigningKey, url: "https://attacker.example/api/cacheback", body }),
    });
    expect(elsewhere.status).toBe(401);
    // The right key and URL, but another body than the one signed.
    const tampered = await post({
      "upstash-signature": await signQStashMessage({ signingKey: servers.qstash.currentSigningKey, url: refreshUrl, body: body.replace("ACME", "GLOBEX") }),
    });
    expect(tampered.status).toBe(401);

    const after = await observer.peek(["quote", "ACME"]);
    expect(after.writtenAt).toBe(before.writtenAt);
    expect(after.freshUntil).toBe(before.freshUntil);
    expect(after.value).toEqual(before.value);
  });

  it("6. the source throws on refresh: the page keeps serving the old value; QStash retries, then dead-letters it", async () => {
    const old = { symbol: "DOWN", price: 42, version: 7, fetchedAt: "2026-01-02T03:04:05.000Z" };
    await observer.set(["quote", "DOWN"], old, { lifetime: 0 });

    const page = await loadQuotePage(app.origin, "DOWN");
    expect(page).toMatchObject({ httpStatus: 200, status: "stale", price: "$42.00", version: 7, fetchedAt: old.fetchedAt });

    const [dead] = await eventually(
      "the dead letter",
      async () => {
        const dlq = await quoteMessages("DOWN", "dlq");
        return dlq.length === 1 ? dlq : undefined;
      },
      30_000,
    );
    expect(dead!.state).toBe("FAILED");
    // One delivery and QStash's three retries, each answered 500 by the route (the job threw).
    expect(dead!.attempts.map((a) => a.status)).toEqual([500, 500, 500, 500]);
    expect(dead!.responseBody).toContain("SourceUnavailableError");
    expect(await quoteMessages("DOWN")).toHaveLength(1);

    const still = await loadQuotePage(app.origin, "DOWN");
    expect(still).toMatchObject({ httpStatus: 200, status: "stale", price: "$42.00", version: 7 });
    expect((await observer.peek(["quote", "DOWN"])).value).toEqual(old);
  });
});
