import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/wait.js";
import { startExample, type ExampleServer } from "./example-app.js";
import { loadQuotePage } from "./page.js";

// What `npm run example` serves: no Upstash variables at all, so the embedded default (in-memory cache,
// in-process queue delivering signed messages to the app's own refresh route over HTTP).
const DELAY_MS = 1000;

let app: ExampleServer;

beforeAll(async () => {
  app = await startExample({ EXAMPLE_SOURCE_DELAY_MS: String(DELAY_MS), EXAMPLE_LIFETIME: "2", CACHEBACK_DEBUG: "1" });
});

afterAll(async () => {
  await app?.close();
});

interface QuoteJson {
  status: string;
  syncFetch: boolean;
  refreshScheduled: boolean;
  value: { version: number };
}
const readJson = async (symbol: string): Promise<QuoteJson> => (await (await fetch(`${app.origin}/api/quotes/${symbol}`)).json()) as QuoteJson;

describe("example-next-app on the embedded default (no env)", () => {
  it("says so in the log and serves the page: miss first, then fresh", async () => {
    const cold = await loadQuotePage(app.origin, "UMBRELLA");
    expect(cold).toMatchObject({ httpStatus: 200, status: "miss", version: 1 });
    expect(cold.elapsedMs).toBeGreaterThanOrEqual(DELAY_MS - 50);
    expect(app.output()).toContain("running in production on the embedded default");
    const warm = await loadQuotePage(app.origin, "UMBRELLA");
    expect(warm).toMatchObject({ status: "hit", label: "fresh", version: 1 });
  });

  it("refreshes a stale entry in the background through the refresh route, on the local queue", async () => {
    const stale = await eventually("UMBRELLA to be served stale", async () => {
      const read = await readJson("UMBRELLA");
      return read.status === "stale" ? read : undefined;
    });
    expect(stale).toMatchObject({ syncFetch: false, refreshScheduled: true, value: { version: 1 } });

    const refreshed = await eventually(
      "the refreshed UMBRELLA quote",
      async () => {
        const read = await readJson("UMBRELLA");
        return read.value.version === 2 ? read : undefined;
      },
      DELAY_MS + 10_000,
    );
    expect(refreshed.status).toBe("hit");
    // The refresh ran in the refresh route (sync=false), not in the reader, after a local-queue publish.
    expect(app.output()).toMatch(/refresh-queued key=cacheback:entry:quote:\["UMBRELLA"\] job=quote messageId=\S+ reason=stale/);
    expect(app.output()).toMatch(/refresh-done key=cacheback:entry:quote:\["UMBRELLA"\] job=quote durationMs=\d+ written=true sync=false/);
  });

  it("the route refuses a POST that the local queue did not sign", async () => {
    const response = await fetch(`${app.origin}/api/cacheback`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ v: 1, job: "quote", args: ["UMBRELLA"], lock: "x", queuedAt: Date.now(), options: { lifetime: 1, ttl: 60, refreshTimeout: 60 } }),
    });
    expect(response.status).toBe(401);
  });
});
