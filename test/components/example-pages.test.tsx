import { cleanup, render, screen, within } from "@testing-library/react";
import { Cacheback, MemoryStore, setDefaultCacheback } from "next-cacheback";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { revalidateQuotes, saveQuoteNote } from "@/app/actions";
import HomePage from "@/app/page";
import QuotesPage from "@/app/quotes/page";
import QuotePage from "@/app/quotes/[symbol]/page";
import { RecordingQueue } from "../helpers/harness.js";

// The pages are async server components. Outside a Next.js request `connection()` throws and the router
// hooks have no router: those two are stubbed; everything else (jobs, the cache, the components) is real.
vi.mock("next/server", async (importOriginal) => ({ ...(await importOriginal<object>()), connection: async () => undefined }));
// `refresh()` (a server action's re-render) needs a Next.js request: the actions' calls are recorded instead.
vi.mock("next/cache", async (importOriginal) => ({ ...(await importOriginal<object>()), refresh: vi.fn() }));
const routerRefresh = vi.fn();
vi.mock("next/navigation", async (importOriginal) => ({
  ...(await importOriginal<object>()),
  useRouter: () => ({ refresh: routerRefresh, push: vi.fn(), replace: vi.fn(), prefetch: vi.fn(), back: vi.fn(), forward: vi.fn() }),
}));

const LIFETIME = 10; // the example's default EXAMPLE_LIFETIME
const clock = { now: Date.parse("2026-03-01T12:00:00.000Z") };
const now = () => clock.now;
let queue: RecordingQueue;
let pending: Promise<unknown>[];
let sourceDelay: string | undefined;

beforeAll(() => {
  // The example reads its source delay at call time: no waiting in these tests.
  sourceDelay = process.env.EXAMPLE_SOURCE_DELAY_MS;
  process.env.EXAMPLE_SOURCE_DELAY_MS = "0";
});

afterAll(() => {
  if (sourceDelay === undefined) delete process.env.EXAMPLE_SOURCE_DELAY_MS;
  else process.env.EXAMPLE_SOURCE_DELAY_MS = sourceDelay;
  setDefaultCacheback();
});

beforeEach(() => {
  queue = new RecordingQueue();
  pending = [];
  setDefaultCacheback(
    new Cacheback({
      store: new MemoryStore({ now }),
      now,
      queue,
      refreshUrl: "http://127.0.0.1:3000/api/cacheback",
      runInBackground: async (task) => {
        const p = task().catch(() => undefined);
        pending.push(p);
        await p;
      },
    }),
  );
});

afterEach(cleanup);

const settle = async () => {
  while (pending.length > 0) await Promise.all(pending.splice(0));
};

/** Renders what the quote page returns for `symbol`, as a person would see it. */
async function showQuote(symbol: string) {
  cleanup();
  render(await QuotePage({ params: Promise.resolve({ symbol }) }));
  await settle();
  const panel = within(screen.getByTestId("quote"));
  return {
    status: panel.getByTestId("cache-status").textContent,
    price: panel.getByTestId("price").textContent,
    version: panel.getByTestId("version").textContent,
    fetchedAt: panel.getByTestId("fetched-at").textContent,
    age: panel.getByTestId("age").textContent,
    note: panel.getByTestId("note").textContent,
    autoRefresh: screen.queryByTestId("auto-refresh")?.textContent ?? null,
  };
}

describe("the example's quote page (/quotes/[symbol]) on the in-memory store and a controlled clock", () => {
  it("miss, then fresh, then stale with a refresh queued", async () => {
    const miss = await showQuote("acme");
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("ACME");
    expect(miss).toMatchObject({ status: "miss", version: "version 1", age: "just now", autoRefresh: null });
    expect(miss.price).toMatch(/^\$\d+\.\d\d$/);
    expect(screen.getByRole("button", { name: "Invalidate this quote" })).toBeTruthy();
    expect(queue.published).toHaveLength(0);

    clock.now += 4_000;
    const fresh = await showQuote("ACME");
    expect(fresh).toMatchObject({ status: "fresh", price: miss.price, version: "version 1", fetchedAt: miss.fetchedAt, age: "4 s" });
    expect(fresh.autoRefresh).toBeNull();
    expect(queue.published).toHaveLength(0);

    clock.now += LIFETIME * 1000;
    const stale = await showQuote("ACME");
    expect(stale).toMatchObject({ status: "stale, refresh queued", price: miss.price, version: "version 1", age: "14 s" });
    expect(stale.autoRefresh).toMatch(/refresh is on its way/);
    expect(queue.published).toHaveLength(1);
    expect(queue.published[0]).toMatchObject({
      url: "http://127.0.0.1:3000/api/cacheback",
      message: { job: "quote", args: ["ACME"], options: { lifetime: LIFETIME } },
    });
  });
});

describe("the example's home page on the in-memory store and a controlled clock", () => {
  it("headline fetched on a miss; trending (fetchOnMiss: false) shows nothing yet and is filled in the background", async () => {
    render(await HomePage());
    await settle();
    const headline = within(screen.getByTestId("headline"));
    expect(headline.getByTestId("cache-status").textContent).toBe("miss");
    expect(headline.getByTestId("value").textContent).toMatch(/\(version 1\)$/);
    const trending = within(screen.getByTestId("trending"));
    expect(trending.getByTestId("cache-status").textContent).toBe("miss, refresh queued");
    expect(trending.getByTestId("value").textContent).toBe("Warming up: the list is being fetched in the background.");
    expect(trending.getByTestId("age").textContent).toBe("nothing cached yet");
    expect(screen.getByTestId("auto-refresh")).toBeTruthy();
    expect(queue.published.map((p) => p.message.job)).toEqual(["trending"]);
    expect(screen.getAllByRole("link").map((a) => a.getAttribute("href"))).toContain("/quotes/ACME");
  });
});

describe("the example's tags on the in-memory store and a controlled clock", () => {
  it("the quote page shows the note; saving it (the server action) expires the quote, so the next render fetches it with the note", async () => {
    const before = await showQuote("INITECH");
    expect(before).toMatchObject({ status: "miss", note: "No note yet." });
    clock.now += 1_000;
    expect(await showQuote("INITECH")).toMatchObject({ status: "fresh", version: before.version });

    const form = new FormData();
    form.set("symbol", "initech");
    form.set("note", "  Quarterly results on Monday  ");
    await saveQuoteNote(form);
    const after = await showQuote("INITECH");
    expect(after).toMatchObject({ status: "miss", note: "Quarterly results on Monday", autoRefresh: null });
    expect(after.version).not.toBe(before.version);
    expect(screen.getByRole("textbox", { name: "Note" }).getAttribute("value")).toBe("Quarterly results on Monday");
    // Expired, not stale: the read fetched it, and nothing went through the queue.
    expect(queue.published).toHaveLength(0);
  });

  it("the list page (/quotes): revalidating the tag `quotes` serves every quote stale, with one refresh queued per entry", async () => {
    const panels = () =>
      ["ACME", "GLOBEX", "INITECH", "UMBRELLA"].map((symbol) => {
        const panel = within(screen.getByTestId(`quote-${symbol}`));
        return { symbol, status: panel.getByTestId("cache-status").textContent, version: panel.getByTestId("version").textContent };
      });
    const show = async () => {
      cleanup();
      render(await QuotesPage());
      await settle();
      return panels();
    };

    const cold = await show();
    expect(cold.map((p) => p.status)).toEqual(["miss", "miss", "miss", "miss"]);
    clock.now += 1_000;
    expect((await show()).map((p) => p.status)).toEqual(["fresh", "fresh", "fresh", "fresh"]);

    await revalidateQuotes();
    const stale = await show();
    expect(stale).toEqual(cold.map((p) => ({ ...p, status: "stale, refresh queued" })));
    expect(screen.getByTestId("auto-refresh")).toBeTruthy();
    expect(queue.published.map((p) => p.message.args[0]).sort()).toEqual(["ACME", "GLOBEX", "INITECH", "UMBRELLA"]);
    for (const { message } of queue.published) {
      expect(message).toMatchObject({ job: "quote", tags: ["quotes", `quote:${message.args[0] as string}`] });
    }
  });
});
