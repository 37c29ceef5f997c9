import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "@upstash/redis";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServers, type DevServers } from "../../packages/dev/src/index.js";
import { Cacheback } from "../../src/cacheback.js";
import { ROOT } from "../helpers/built-package.js";
import { eventually, randomPrefix } from "../helpers/wait.js";
import { startExample, type ExampleServer } from "./example-app.js";

// A person's view of the example: headless Debian Chromium (installed by .ci/run) driven by playwright-core.
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "test", "artifacts");
const DELAY_MS = 1500;

let servers: DevServers;
let app: ExampleServer;
let context: BrowserContext;
let userDataDir: string;
/** Reads the entries the app writes (same Redis, same prefix) without side effects. */
let observer: Cacheback;
const PREFIX = randomPrefix("e2e-browser");

beforeAll(async () => {
  servers = await startDevServers({ redis: { port: 0 }, qstash: { port: 0, retryDelayScale: 0.001 } });
  observer = new Cacheback({ redis: new Redis({ url: servers.redis.url, token: servers.redis.token }), prefix: PREFIX });
  app = await startExample((port) => ({
    ...servers.env,
    CACHEBACK_REFRESH_URL: `http://127.0.0.1:${port}/api/cacheback`,
    CACHEBACK_PREFIX: PREFIX,
    EXAMPLE_SOURCE_DELAY_MS: String(DELAY_MS),
    // Long enough that nothing goes stale by itself during the test: only the invalidate button does it.
    EXAMPLE_LIFETIME: "300",
  }));
  userDataDir = mkdtempSync(join(tmpdir(), "next-cacheback-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await app?.close();
  await servers?.close();
});

const badge = (page: Page, status: string) => page.locator(`[data-testid="quote"] [data-testid="cache-status"][data-status="${status}"]`);
const text = (page: Page, id: string) => page.locator(`[data-testid="quote"] [data-testid="${id}"]`).innerText();
/**
 * Waits until React has hydrated the element `data-testid="<id>"` (it then carries React's props), so a click
 * on it runs the server action through the router instead of the browser's plain form post.
 */
const hydrated = (page: Page, id: string) =>
  page.waitForFunction(
    (testId) => {
      const element = document.querySelector(`[data-testid="${testId}"]`);
      return element !== null && Object.keys(element).some((key) => key.startsWith("__reactProps$"));
    },
    id,
    { timeout: 10_000 },
  );

describe("example-next-app in headless Chromium", () => {
  it("shows the value and its status; invalidate turns it stale, then the refreshed value appears by itself", async () => {
    const page = await context.newPage();
    const response = await page.goto(`${app.origin}/quotes/INITECH`);
    expect(response?.status()).toBe(200);
    await badge(page, "miss").waitFor({ timeout: 10_000 });
    expect(await text(page, "cache-status")).toBe("miss");
    expect(await text(page, "version")).toBe("version 1");
    const firstPrice = await text(page, "price");
    expect(firstPrice).toMatch(/^\$\d+\.\d\d$/);
    expect(await page.title()).toBe("next-cacheback example");

    // The write-back is the first request's background work: it may land just after the page is served.
    await eventually("the write-back of INITECH", async () => (await observer.peek(["quote", "INITECH"])).status === "hit");
    await page.reload();
    await badge(page, "hit").waitFor({ timeout: 10_000 });
    expect(await text(page, "cache-status")).toBe("fresh");
    expect(await text(page, "price")).toBe(firstPrice);
    await page.screenshot({ path: join(ARTIFACTS, "example-quote-fresh.png"), fullPage: true });

    await page.getByTestId("invalidate").click();
    await badge(page, "stale").waitFor({ timeout: 10_000 });
    expect(await text(page, "cache-status")).toBe("stale, refresh queued");
    expect(await text(page, "version")).toBe("version 1");
    expect(await text(page, "price")).toBe(firstPrice);
    expect(await page.getByTestId("auto-refresh").isVisible()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, "example-quote-stale.png"), fullPage: true });

    // No reload by the test: the page's own auto-refresh shows the refreshed value once it is written.
    await badge(page, "hit").waitFor({ timeout: DELAY_MS + 15_000 });
    expect(await text(page, "version")).toBe("version 2");
    expect(await text(page, "cache-status")).toBe("fresh");
    expect(await page.getByTestId("auto-refresh").count()).toBe(0);
    const screenshot = join(ARTIFACTS, "example-quote-refreshed.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(5_000);

    // The entry is written before the route answers; the engine records the answer after: wait for the record.
    const deliveries = await eventually("the INITECH delivery to be recorded", async () => {
      const found = servers.qstash.engine.messages().filter((m) => m.body?.includes('"args":["INITECH"]'));
      return found.length > 0 && found.every((m) => m.state !== "CREATED" && m.state !== "ACTIVE") ? found : undefined;
    });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.attempts.map((a) => a.status)).toEqual([200]);
    await page.close();
  });

  it("saves a note with the form: the server action's own response carries the page with the new note", async () => {
    const page = await context.newPage();
    await page.goto(`${app.origin}/quotes/GLOBEX`);
    await badge(page, "miss").waitFor({ timeout: 10_000 });
    expect(await text(page, "note")).toBe("No note yet.");
    expect(await text(page, "version")).toBe("version 1");
    await eventually("the write-back of GLOBEX", async () => (await observer.peek(["quote", "GLOBEX"])).status === "hit");

    // The server action's request is a POST to the page itself: its answer is kept as it goes by.
    const actions: { note: string | undefined; body: string }[] = [];
    await page.route(
      (url) => url.pathname === "/quotes/GLOBEX",
      async (route) => {
        const request = route.request();
        if (request.method() !== "POST") return route.fallback();
        const response = await route.fetch();
        const body = await response.text();
        actions.push({ note: /name="[^"]*note"\r\n\r\n([^\r]*)/.exec(request.postData() ?? "")?.[1], body });
        await route.fulfill({ response, body });
      },
    );
    await hydrated(page, "save-note");
    await page.getByTestId("note-input").fill("Merger talks");
    await page.getByTestId("save-note").click();
    await page.locator('[data-testid="quote"] [data-testid="note"]', { hasText: "Merger talks" }).waitFor({ timeout: DELAY_MS + 10_000 });
    // One request: the action (updateTag, then the re-render that fetched the quote) answered with the page
    // showing the new note.
    expect(actions).toHaveLength(1);
    expect(actions[0]!.note).toBe("Merger talks");
    expect(actions[0]!.body).toContain("Merger talks");
    expect(await text(page, "version")).toBe("version 2");
    expect(await text(page, "cache-status")).toBe("miss");
    expect(await page.getByTestId("note-input").inputValue()).toBe("Merger talks");
    await page.screenshot({ path: join(ARTIFACTS, "example-quote-note.png"), fullPage: true });
    await page.close();
  });

  it("the list page: revalidating the tag turns every quote stale, then the refreshed values appear by themselves", async () => {
    // Every quote cached first: this load fetches the cold ones; their write-backs land just after it.
    expect((await fetch(`${app.origin}/quotes`)).status).toBe(200);
    await eventually("every quote to be cached", async () => {
      const reads = await Promise.all(["ACME", "GLOBEX", "INITECH", "UMBRELLA"].map((s) => observer.peek(["quote", s])));
      return reads.every((r) => r.status === "hit");
    });
    const page = await context.newPage();
    await page.goto(`${app.origin}/quotes`);
    const panels = page.locator('section[data-testid^="quote-"]');
    expect(await panels.count()).toBe(4);
    expect(await page.locator('section[data-testid^="quote-"] [data-status="hit"]').count()).toBe(4);
    const versions = await page.locator('section[data-testid^="quote-"] [data-testid="version"]').allInnerTexts();

    await hydrated(page, "revalidate-quotes");
    await page.getByTestId("revalidate-quotes").click();
    await page.locator('[data-testid="auto-refresh"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('section[data-testid^="quote-"] [data-status="stale"]').count()).toBe(4);
    expect(await page.locator('section[data-testid^="quote-"] [data-testid="version"]').allInnerTexts()).toEqual(versions);
    await page.screenshot({ path: join(ARTIFACTS, "example-list-stale.png"), fullPage: true });

    // No reload by the test: the page reloads itself until every refresh has landed.
    await page.locator('[data-testid="auto-refresh"]').waitFor({ state: "detached", timeout: DELAY_MS + 20_000 });
    expect(await page.locator('section[data-testid^="quote-"] [data-status="hit"]').count()).toBe(4);
    const bumped = versions.map((v) => `version ${Number(v.replace("version ", "")) + 1}`);
    expect(await page.locator('section[data-testid^="quote-"] [data-testid="version"]').allInnerTexts()).toEqual(bumped);
    await page.screenshot({ path: join(ARTIFACTS, "example-list-refreshed.png"), fullPage: true });
    await page.close();
  });
});
