import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServers, type DevServers } from "../../packages/dev/src/index.js";
import { Cacheback } from "../../src/cacheback.js";
import type { RefreshBatch, RefreshMessage } from "../../src/message.js";
import { eventually, randomPrefix } from "../helpers/wait.js";
import { startExample, type ExampleServer } from "./example-app.js";
import { panelOf, sectionOf, submitForm, textOf, versionIn } from "./page.js";

// Tags in the example under `next start`, over HTTP, on next-cacheback dev and the real redis-server: the
// note form's server action (`cacheback.updateTag`), the list page whose entries share the tag `quotes`
// (`cacheback.revalidateTag`), and the `'use cache'` snapshot that embeds a quote (its tags attached with
// `cacheTag`, revalidated by the refresh route). Forms are posted as a browser without JavaScript posts them;
// the Chromium test drives the same note form with JavaScript.
const DELAY_MS = 1000; // the slow source
const PREFIX = randomPrefix("e2e-tags");
const SYMBOLS = ["ACME", "GLOBEX", "INITECH", "UMBRELLA"];

let servers: DevServers;
let app: ExampleServer;
let refreshUrl: string;
/** Reads what the app writes (same Redis, same prefix) without side effects. */
let observer: Cacheback;

beforeAll(async () => {
  servers = await startDevServers({ redis: { port: 0 }, qstash: { port: 0, retryDelayScale: 0.001 } });
  observer = new Cacheback({ redis: new Redis({ url: servers.redis.url, token: servers.redis.token }), prefix: PREFIX });
  app = await startExample((port) => {
    refreshUrl = `http://127.0.0.1:${port}/api/cacheback`;
    return {
      ...servers.env,
      CACHEBACK_REFRESH_URL: refreshUrl,
      CACHEBACK_PREFIX: PREFIX,
      EXAMPLE_SOURCE_DELAY_MS: String(DELAY_MS),
      // Long enough that nothing goes stale by itself: only the tags do it.
      EXAMPLE_LIFETIME: "300",
      // Not about timeouts: on a loaded 2-core machine a 1 s read timeout can fire before an answer that
      // already arrived is processed.
      CACHEBACK_READ_TIMEOUT: "15",
      // Next.js's default 'use cache' handler logs its calls, so the test can wait for the refresh route's
      // revalidateTag to reach it (Next.js runs it after the route has answered).
      NEXT_PRIVATE_DEBUG_CACHE: "1",
    };
  });
});

afterAll(async () => {
  await app?.close();
  await servers?.close();
});

const page = async (path: string): Promise<string> => {
  const response = await fetch(`${app.origin}${path}`);
  expect(response.status).toBe(200);
  return response.text();
};

/** The refreshes QStash took for one symbol's quote, each with its message (a message may carry several). */
function refreshesOf(symbol: string) {
  return servers.qstash.engine
    .messages()
    .filter((m) => m.url === refreshUrl && m.body !== undefined)
    .flatMap((m) => {
      const body = JSON.parse(m.body!) as RefreshMessage | RefreshBatch;
      const items = "refreshes" in body ? body.refreshes : [body];
      return items.filter((r) => r.job === "quote" && r.args[0] === symbol).map((refresh) => ({ refresh, message: m }));
    });
}

/** The stored quote, once its write has landed (a miss's write-back, a refresh). */
const storedQuote = (symbol: string, version: number) =>
  eventually(`the quote of ${symbol}, version ${version}, in Redis`, async () => {
    const entry = await observer.peek<{ version: number; note: string }>(["quote", symbol]);
    return entry.status === "hit" && entry.value?.version === version ? entry : undefined;
  });

/** How many times Next.js's default 'use cache' handler was told to update `tag` (its debug log, one call per line). */
const tagUpdates = (tag: string): number =>
  app
    .output()
    .split("DefaultCacheHandler: updateTags")
    .slice(1)
    .filter((call) => call.split("DefaultCacheHandler:")[0]!.includes(`'${tag}'`)).length;

/** How many entries Next.js's default 'use cache' handler has written (its debug log). */
const snapshotWrites = (): number => app.output().match(/DefaultCacheHandler: set .* done$/gm)?.length ?? 0;

describe("example-next-app: tags, under next start", () => {
  it("the note form: its server action's own response shows the new note (read your own write), and the 'use cache' snapshot follows at once", async () => {
    const cold = panelOf(await page("/quotes/ACME"), "quote");
    expect(cold).toMatchObject({ status: "miss", version: 1, note: "No note yet." });
    await storedQuote("ACME", 1);
    const snapshotBefore = await page("/quotes/ACME/snapshot");
    expect(versionIn(textOf(snapshotBefore, "snapshot-version"))).toBe(1);
    expect(textOf(snapshotBefore, "snapshot-note")).toBeUndefined();

    const html = await page("/quotes/ACME");
    expect(panelOf(html, "quote")).toMatchObject({ status: "hit", version: 1 });
    const saved = await submitForm(app.origin, "/quotes/ACME", html, "save-note", { note: "Earnings on Thursday" });
    expect(saved.httpStatus).toBe(200);
    // The same request: updateTag expired the entry, so the re-render fetched the quote with its new note.
    expect(panelOf(saved.html, "quote")).toMatchObject({ status: "miss", label: "miss", version: 2, note: "Earnings on Thursday" });

    // Once that fetch's write-back has landed, the snapshot (its tag expired by the same updateTag) shows it too.
    const stored = await storedQuote("ACME", 2);
    expect(stored.value?.note).toBe("Earnings on Thursday");
    const snapshot = await page("/quotes/ACME/snapshot");
    expect(versionIn(textOf(snapshot, "snapshot-version"))).toBe(2);
    expect(textOf(snapshot, "snapshot-note")).toBe("Earnings on Thursday");
    const again = panelOf(await page("/quotes/ACME"), "quote");
    expect(again).toMatchObject({ status: "hit", version: 2, note: "Earnings on Thursday" });
    // Two source calls in all (the cold read and the action's), and no refresh through QStash.
    expect(refreshesOf("ACME")).toHaveLength(0);
  });

  it("the list page: revalidating the tag `quotes` serves the old values, then the new ones, with one refresh per entry", async () => {
    // Every entry cached; ACME has version 2 (the test above), the others version 1.
    await page("/quotes");
    const before = new Map<string, number>();
    for (const symbol of SYMBOLS) before.set(symbol, (await storedQuote(symbol, symbol === "ACME" ? 2 : 1)).value!.version);
    const html = await page("/quotes");
    for (const symbol of SYMBOLS) expect(panelOf(html, `quote-${symbol}`)).toMatchObject({ status: "hit", version: before.get(symbol) });
    expect(panelOf(html, "quote-ACME")?.note).toBe("Earnings on Thursday");
    // The snapshot of GLOBEX is in Next.js's cache before the revalidation (for the last test).
    expect(versionIn(textOf(await page("/quotes/GLOBEX/snapshot"), "snapshot-version"))).toBe(1);
    const updatesBefore = tagUpdates("quote:GLOBEX");

    // The action's own re-render: every entry stale, the old value served, a refresh queued for each.
    const revalidated = await submitForm(app.origin, "/quotes", html, "revalidate-quotes");
    expect(revalidated.httpStatus).toBe(200);
    for (const symbol of SYMBOLS) {
      expect(panelOf(revalidated.html, `quote-${symbol}`)).toMatchObject({ status: "stale", label: "stale, refresh queued", version: before.get(symbol) });
    }

    // One refresh per entry reaches the refresh route, answered 200 (they travel in one message or a few).
    const refreshes = await eventually(
      "a delivered refresh of every quote",
      async () => {
        const all = SYMBOLS.map(refreshesOf);
        return all.every((r) => r.length === 1 && r[0]!.message.state === "DELIVERED") ? all : undefined;
      },
      DELAY_MS + 20_000,
    );
    for (const [{ message }] of refreshes as [ReturnType<typeof refreshesOf>[number]][]) {
      expect(message.attempts.map((a) => a.status)).toEqual([200]);
    }
    for (const symbol of SYMBOLS) await storedQuote(symbol, before.get(symbol)! + 1);

    const after = await page("/quotes");
    for (const symbol of SYMBOLS) {
      // Exactly one more source call per symbol: the version counts them.
      expect(panelOf(after, `quote-${symbol}`)).toMatchObject({ status: "hit", label: "fresh", version: before.get(symbol)! + 1 });
    }
    expect(panelOf(after, "quote-ACME")?.note).toBe("Earnings on Thursday");
    await servers.qstash.engine.idle();
    for (const symbol of SYMBOLS) expect(refreshesOf(symbol)).toHaveLength(1);

    // The refresh route then told Next.js's cache (revalidateTag(tag, "max"), run after its answer): wait for it.
    await eventually("the refresh route's revalidation of quote:GLOBEX in Next.js's cache", async () => tagUpdates("quote:GLOBEX") > updatesBefore);
  });

  it("the 'use cache' snapshot shows the refreshed quote within two requests after the refresh route wrote it", async () => {
    // The refresh of the test above wrote GLOBEX version 2 and revalidated its tags ("max"). The first request
    // gets the cached snapshot, stale, while Next.js renders it again in the background; once that render is
    // written (wait for it), the second request gets the new one.
    const writesBefore = snapshotWrites();
    const first = await page("/quotes/GLOBEX/snapshot");
    expect(sectionOf(first, "snapshot")).toBeDefined();
    const firstVersion = versionIn(textOf(first, "snapshot-version"));
    expect([1, 2]).toContain(firstVersion);
    if (firstVersion === 1) await eventually("Next.js's background render of the snapshot to be written", async () => snapshotWrites() > writesBefore);
    const second = await page("/quotes/GLOBEX/snapshot");
    expect(versionIn(textOf(second, "snapshot-version"))).toBe(2);
    // The page around it is rendered per request; the snapshot is not.
    expect(textOf(second, "rendered-at")).not.toBe(textOf(first, "rendered-at"));
    const third = await page("/quotes/GLOBEX/snapshot");
    expect(textOf(third, "snapshot-cached-at")).toBe(textOf(second, "snapshot-cached-at"));
    // Rendering the snapshot again read the fresh entry: no more refreshes, no more source calls.
    expect(refreshesOf("GLOBEX")).toHaveLength(1);
    expect((await observer.peek<{ version: number }>(["quote", "GLOBEX"])).value?.version).toBe(2);
  });
});
