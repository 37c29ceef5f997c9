import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServers, type DevServers } from "../../packages/dev/src/index.js";
import { parseStamp } from "../../src/tags/stamps.js";
import { startFaultProxy, type FaultProxy } from "../helpers/fault-proxy.js";
import { eventually, randomPrefix } from "../helpers/wait.js";
import { startExample, type ExampleServer } from "./example-app.js";
import { sectionOf, submitForm, textOf } from "./page.js";

// 'use cache: remote' on next-cacheback's cache handler: TWO `next start` processes of the example (A and B)
// on the same dev servers, the same Redis and the same prefix, as two instances of one deployment. Their
// Redis goes through a fault proxy, so the last test can take it away. Each process counts the computations
// of the market report it ran (`GET /api/report`); a report names the process that computed it.
const DELAY_MS = 1000; // how long one computation of the report takes
const PREFIX = randomPrefix("e2e-remote");

let servers: DevServers;
let proxy: FaultProxy;
let a: ExampleServer;
let b: ExampleServer;
/** The test's own view of Redis, straight to the dev server (not through the proxy). */
let redis: Redis;

beforeAll(async () => {
  servers = await startDevServers({ redis: { port: 0 }, qstash: { port: 0, retryDelayScale: 0.001 } });
  redis = new Redis({ url: servers.redis.url, token: servers.redis.token });
  proxy = await startFaultProxy(Number(new URL(servers.redis.url).port));
  const env = (port: number) => ({
    ...servers.env,
    UPSTASH_REDIS_REST_URL: proxy.url,
    CACHEBACK_REFRESH_URL: `http://127.0.0.1:${port}/api/cacheback`,
    CACHEBACK_PREFIX: PREFIX,
    EXAMPLE_SOURCE_DELAY_MS: String(DELAY_MS),
    // Not about timeouts (but the last test): on a loaded 2-core machine a 1 s read timeout can fire before
    // an answer that already arrived is processed.
    CACHEBACK_READ_TIMEOUT: "15",
    CACHEBACK_DEBUG: "1",
  });
  [a, b] = await Promise.all([startExample(env), startExample(env)]);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await proxy?.close();
  await servers?.close();
});

/** What `/report` shows: the report (who computed it, which of its computations, when) and who served the page. */
interface ReportView {
  computedBy: string | undefined;
  computation: string | undefined;
  computedAt: string | undefined;
  servedBy: string | undefined;
}

async function loadReport(app: ExampleServer): Promise<ReportView & { html: string }> {
  const response = await fetch(`${app.origin}/report`);
  expect(response.status).toBe(200);
  return viewOf(await response.text());
}

function viewOf(html: string): ReportView & { html: string } {
  const report = sectionOf(html, "report") ?? "";
  return {
    computedBy: textOf(report, "report-computed-by"),
    computation: textOf(report, "report-computation"),
    computedAt: textOf(report, "report-computed-at"),
    servedBy: textOf(html, "served-by")?.match(/^Served by (.+) at /)?.[1],
    html,
  };
}

/** This process's name and how many times it computed the report. */
async function countOf(app: ExampleServer): Promise<{ instance: string; computations: number }> {
  const response = await fetch(`${app.origin}/api/report`);
  expect(response.status).toBe(200);
  return (await response.json()) as { instance: string; computations: number };
}

const counts = async () => {
  const [onA, onB] = await Promise.all([countOf(a), countOf(b)]);
  return { a: onA.computations, b: onB.computations, total: onA.computations + onB.computations };
};

/**
 * The report stored in Redis by the cache handler (`<prefix>hentry:<key>`: a header, the tags, an empty line,
 * then the value in base64), decoded: Next.js's serialized component.
 */
async function storedReport(): Promise<string | undefined> {
  const keys = await redis.keys(`${PREFIX}hentry:*`);
  if (keys.length === 0) return undefined;
  expect(keys).toHaveLength(1);
  const text = await redis.get<string>(keys[0]!);
  if (typeof text !== "string") return undefined;
  const lines = text.split("\n");
  const blank = lines.indexOf("", 2);
  return Buffer.from(lines.slice(blank + 1).join(""), "base64").toString("utf8");
}

/** Waits until the report computed at `computedAt` is the one in Redis (a `set` lands after its response). */
const storedAs = (computedAt: string) =>
  eventually(`the report computed at ${computedAt} in Redis`, async () => (await storedReport())?.includes(computedAt));

/** The `stale` version of the tag `report`'s stamp (0: never revalidated). */
const staleStamp = async (): Promise<number> => parseStamp(await redis.get(`${PREFIX}tag:report`))?.stale ?? 0;

describe("'use cache: remote' on next-cacheback's cache handler, two next start processes on one Redis", () => {
  let names: { a: string; b: string };
  let first: ReportView;
  let second: ReportView;

  it("a report computed on A is served by B without computing it again", async () => {
    names = { a: (await countOf(a)).instance, b: (await countOf(b)).instance };
    expect(names.a).not.toBe(names.b);

    first = await loadReport(a);
    expect(first).toMatchObject({ computedBy: names.a, computation: "#1", servedBy: names.a });
    await storedAs(first.computedAt!);

    const onB = await loadReport(b);
    expect(onB).toMatchObject({ computedBy: names.a, computation: "#1", computedAt: first.computedAt, servedBy: names.b });
    expect(await counts()).toEqual({ a: 1, b: 0, total: 1 });
  });

  it('revalidateTag("report", "max") on A: B serves the old report, then the new one, with one computation in all', async () => {
    const before = await staleStamp();
    const response = await fetch(`${a.origin}/api/report`, { method: "POST" });
    expect(response.status).toBe(200);
    // From a route handler, Next.js calls the cache handler's updateTags after the answer: wait for its stamp.
    await eventually("the stamp of the tag report", async () => (await staleStamp()) > before);

    // The first read after the stamp: the old report, served at once; B wins the lock and computes the next one.
    const stale = await loadReport(b);
    expect(stale).toMatchObject({ computedAt: first.computedAt, computedBy: names.a, servedBy: names.b });
    // Meanwhile, both instances serve what Redis holds (the old report, or the new one once it landed); none
    // computes it again.
    const meanwhile = await Promise.all([a, b, a, b, a, b].map(loadReport));
    for (const view of meanwhile) {
      if (view.computedAt === first.computedAt) expect(view.computedBy).toBe(names.a);
      else expect(view.computedBy).toBe(names.b);
    }

    second = await eventually(
      "B to serve the new report",
      async () => {
        const view = await loadReport(b);
        return view.computedAt !== first.computedAt ? view : undefined;
      },
      DELAY_MS + 20_000,
    );
    expect(second).toMatchObject({ computedBy: names.b, computation: "#1" });
    await storedAs(second.computedAt!);
    expect(await loadReport(a)).toMatchObject({ computedAt: second.computedAt, computedBy: names.b, servedBy: names.a });
    expect(await counts()).toEqual({ a: 1, b: 1, total: 2 });
  });

  it('updateTag("report") in a server action on A: the next request on A shows a new report', async () => {
    const page = await loadReport(a);
    expect(page.computedAt).toBe(second.computedAt);
    const actionStarted = Date.now();
    const action = await submitForm(a.origin, "/report", page.html, "update-report");
    expect(action.httpStatus).toBe(200);
    // The action's own re-render computed it (read your own write).
    const inAction = viewOf(action.html);
    expect(inAction.computedBy).toBe(names.a);
    expect(Date.parse(inAction.computedAt!)).toBeGreaterThanOrEqual(actionStarted);

    // Next.js calls updateTags twice for one updateTag in a server action (before the re-render, and after),
    // so the next read may compute once more: not counted here, only that it shows a report newer than the action.
    const next = await loadReport(a);
    expect(next.computedAt).not.toBe(second.computedAt);
    expect(Date.parse(next.computedAt!)).toBeGreaterThanOrEqual(actionStarted);
    expect(next.computedBy).toBe(names.a);
  });

  it("Redis unreachable: both still answer with the report, computed afresh by each (the content, not just a 200)", async () => {
    const before = await counts();
    await proxy.stop();
    try {
      const stopped = Date.now();
      const [onA, onB] = await Promise.all([loadReport(a), loadReport(b)]);
      // A failing `get` is a miss: each process renders the report itself. (A `get` that threw would still give
      // a 200, with the report missing from the page: hence the content checks.)
      expect(onA).toMatchObject({ computedBy: names.a, servedBy: names.a });
      expect(onB).toMatchObject({ computedBy: names.b, servedBy: names.b });
      for (const view of [onA, onB]) {
        expect(sectionOf(view.html, "report")).toBeDefined();
        expect(Date.parse(view.computedAt!)).toBeGreaterThanOrEqual(stopped);
      }
      const after = await counts();
      expect(after.a).toBeGreaterThan(before.a);
      expect(after.b).toBeGreaterThan(before.b);
    } finally {
      await proxy.start();
    }
  });
});
