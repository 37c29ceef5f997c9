import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "@upstash/redis";
import { chromium, type BrowserContext, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServers, startInspector, type DevServers, type Inspector } from "../../packages/dev/src/index.js";
import { Cacheback } from "../../src/cacheback.js";
import { ROOT } from "../helpers/built-package.js";
import { eventually, randomPrefix } from "../helpers/wait.js";
import { startExample, type ExampleServer } from "./example-app.js";

// The inspector of `next-cacheback dev` in headless Chromium, over the example app under `next start` on the
// dev servers: what it lists, a refresh seen live, and a redelivery from the dead-letter queue.
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "test", "artifacts");
const DELAY_MS = 2500; // the slow source: long enough to see an entry stale before its refresh lands
const PREFIX = randomPrefix("e2e-inspector");

let servers: DevServers;
let app: ExampleServer;
let inspector: Inspector;
let refreshUrl: string;
let context: BrowserContext;
let userDataDir: string;
/** Reads and writes the entries the app reads (same Redis, same prefix). */
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
      // Nothing goes stale by itself during the test: only the inspector's Invalidate does it.
      EXAMPLE_LIFETIME: "300",
      EXAMPLE_FAILING_SYMBOLS: "DOWN",
    };
  });
  inspector = await startInspector({ port: 0, redis: servers.redis, qstash: servers.qstash, prefix: PREFIX, refreshUrl });
  userDataDir = mkdtempSync(join(tmpdir(), "next-cacheback-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 1100 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await inspector?.close();
  await app?.close();
  await servers?.close();
});

const row = (page: Page, symbol: string): Locator => page.locator(`[data-testid=entry-row][data-key='${PREFIX}entry:quote:["${symbol}"]']`);

/** Loads a quote page of the app and waits for its write-back (the miss's background work). */
async function visit(symbol: string): Promise<void> {
  expect((await fetch(`${app.origin}/quotes/${symbol}`)).status).toBe(200);
  await eventually(`the write-back of ${symbol}`, async () => (await observer.peek(["quote", symbol])).status === "hit");
}

describe("the inspector in headless Chromium, over the example app", () => {
  let page: Page;

  it("lists the entries the app wrote, with job, arguments, status, age, expiry, size; views a value; filters by key", async () => {
    await Promise.all([visit("ACME"), visit("INITECH")]);
    page = await context.newPage();
    expect((await page.goto(inspector.url))?.status()).toBe(200);
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    for (const symbol of ["ACME", "INITECH"]) {
      const entry = row(page, symbol);
      await expect.poll(() => entry.getAttribute("data-status")).toBe("fresh");
      expect(await entry.locator("td.job").innerText()).toBe("quote");
      expect(await entry.locator("td.args").innerText()).toBe(`["${symbol}"]`);
      const cells = await entry.locator("td.num").allInnerTexts();
      expect(cells[0]).toMatch(/\d+ (ms|s)$/); // age
      expect(cells[1]).toMatch(/^29 d 23 h|^30 d$/); // the library's default ttl
      expect(cells[2]).toMatch(/^\d+ B$/);
    }

    await row(page, "ACME").getByRole("button", { name: "View" }).click();
    await expect.poll(() => page.getByTestId("viewer-value").innerText()).toContain('"symbol": "ACME"');
    await page.locator("[data-action=close-viewer]").click();

    await page.getByTestId("filter-key").fill("INITECH");
    await expect.poll(() => page.locator("[data-testid=entry-row]").count()).toBe(1);
    // The address bar follows when the typing pause ends (300 ms); a poll in between may show the rows first.
    await expect.poll(() => new URL(page.url()).searchParams.get("key")).toBe("INITECH");
    await page.locator("[data-action=clear-filters]").click();
    await expect.poll(() => page.locator("[data-testid=entry-row]").count()).toBe(2);
  });

  it("Invalidate: the entry shows stale, then fresh once its refresh lands, without a reload; the log shows the delivery's 200", async () => {
    const before = await observer.peek<{ version: number }>(["quote", "ACME"]);
    await row(page, "ACME").getByRole("button", { name: "Invalidate" }).click();
    await expect.poll(() => page.getByTestId("notice").innerText()).toMatch(/^Marked stale; refresh queued as msg_\w+ to http:\/\/127\.0\.0\.1:\d+\/api\/cacheback\.$/);
    await expect.poll(() => row(page, "ACME").getAttribute("data-status"), { timeout: DELAY_MS }).toBe("stale");
    await expect.poll(() => row(page, "ACME").getAttribute("data-status"), { timeout: DELAY_MS + 10_000 }).toBe("fresh");
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    const after = await observer.peek<{ version: number }>(["quote", "ACME"]);
    expect(after.value!.version).toBe(before.value!.version + 1);

    const delivered = page.locator("[data-testid=message-row][data-status=delivered]").filter({ hasText: '["ACME"]' });
    await expect.poll(() => delivered.count()).toBe(1);
    expect(await delivered.locator("ol.attempts").innerText()).toMatch(/^200 \d+ m?s at [\d:]+ quote: written$/);
  });

  it("a refresh that keeps failing lands in the dead-letter queue; Redeliver runs the refresh route again; Drop removes it", async () => {
    const old = { symbol: "DOWN", price: 42, version: 7, fetchedAt: "2026-01-02T03:04:05.000Z" };
    await observer.set(["quote", "DOWN"], old, { lifetime: 300, tags: ["quotes", "symbol:DOWN"] });
    await expect.poll(() => row(page, "DOWN").getAttribute("data-status")).toBe("fresh");
    expect(await row(page, "DOWN").locator("td.tags button").allInnerTexts()).toEqual(["quotes", "symbol:DOWN"]);
    await row(page, "DOWN").getByRole("button", { name: "symbol:DOWN" }).click();
    await expect.poll(() => page.locator("[data-testid=entry-row]").count()).toBe(1);
    expect(await page.getByTestId("filter-tag").inputValue()).toBe("symbol:DOWN");
    await page.locator("[data-action=clear-filters]").click();
    await expect.poll(() => page.locator("[data-testid=entry-row]").count()).toBe(3);

    await row(page, "DOWN").getByRole("button", { name: "Invalidate" }).click();
    const dead = page.locator("[data-testid=dead-letter-row]");
    await expect.poll(() => dead.count(), { timeout: 20_000 }).toBe(1);
    expect(await dead.locator("ol.attempts li").allInnerTexts()).toEqual(Array(4).fill(expect.stringMatching(/^500 \d+ m?s at [\d:]+ SourceUnavailableError: the quote source is down for DOWN$/)));
    await expect.poll(() => row(page, "DOWN").getAttribute("data-status")).toBe("stale");
    const screenshot = join(ARTIFACTS, "inspector.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(20_000);

    const [letter] = servers.qstash.engine.deadLetters();
    await dead.getByRole("button", { name: "Redeliver" }).click();
    await expect.poll(() => page.getByTestId("notice").innerText()).toMatch(/^Redelivering \S+ as msg_\w+\.$/);
    // The route ran again (the job threw again): the redelivery's own deliveries, answered by the route.
    const again = await eventually("the redelivery to be dead-lettered in turn", async () => {
      const found = servers.qstash.engine.messages().find((m) => m.redeliveryOf === letter!.messageId);
      return found?.state === "FAILED" ? found : undefined;
    }, 20_000);
    expect(again.attempts.map((a) => a.status)).toEqual([500, 500, 500, 500]);
    expect(again.attempts[0]!.body).toContain("SourceUnavailableError");
    await expect.poll(() => dead.getAttribute("data-id")).toBe(again.messageId);
    expect(await page.locator(`[data-testid=message-row][data-id='${letter!.messageId}']`).getAttribute("data-status")).toBe("redelivered");

    await dead.getByRole("button", { name: "Drop" }).click();
    await expect.poll(() => page.getByTestId("dead-letters").innerText()).toBe("The dead-letter queue is empty.");
    expect(servers.qstash.engine.deadLetters()).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  });
});
