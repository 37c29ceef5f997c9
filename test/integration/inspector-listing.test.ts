import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServers, startInspector, type DevServers, type Inspector } from "../../packages/dev/src/index.js";
import { listEntries, type ListRequest } from "../../packages/dev/src/inspector/listing.js";
import type { EntryRow } from "../../packages/dev/src/inspector/rows.js";
import { Cacheback } from "../../src/cacheback.js";
import { encodeEnvelope } from "../../src/entry.js";
import { UpstashStore } from "../../src/stores/upstash.js";
import { randomPrefix } from "../helpers/wait.js";

// The inspector's listing over the dev Redis REST server on the real redis-server: 10,000 entries paged
// with the SCAN cursor, the filters, and every status, as the app's own instance writes them.
const PREFIX = randomPrefix("inspector-list");
const ENTRIES = 10_000;

let servers: DevServers;
let inspector: Inspector;
let redis: Redis;
/** The inspector reads stored text as it is; so does this client. */
let raw: Redis;
let cb: Cacheback;

/** Writes `[key, value, ttl seconds]` triples through the REST server, 2,000 per pipeline. */
async function write(entries: Array<[string, string, number]>): Promise<void> {
  for (let at = 0; at < entries.length; at += 2000) {
    const pipeline = raw.pipeline();
    for (const [key, value, ttl] of entries.slice(at, at + 2000)) pipeline.set(key, value, { ex: ttl });
    await pipeline.exec();
  }
}

async function deleteUnder(prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await raw.scan(cursor, { match: `${prefix}*`, count: 1000 });
    if (keys.length > 0) await raw.del(...keys);
    cursor = String(next);
  } while (cursor !== "0");
}

beforeAll(async () => {
  servers = await startDevServers({ redis: { port: 0 }, qstash: { port: 0, retryDelayScale: 0.001 } });
  redis = new Redis({ url: servers.redis.url, token: servers.redis.token });
  raw = new Redis({ url: servers.redis.url, token: servers.redis.token, automaticDeserialization: false });
  cb = new Cacheback({ redis, prefix: PREFIX, nextCache: false });
  inspector = await startInspector({ port: 0, redis: servers.redis, qstash: servers.qstash, prefix: PREFIX });
  const now = Date.now();
  const header = { writtenAt: now, freshUntil: now + 3_600_000, version: now * 1000 };
  const rows: Array<[string, string, number]> = [];
  for (let i = 0; i < ENTRIES; i++) {
    const tags = i % 1000 === 0 ? ["thousands", `item:${i}`] : undefined;
    rows.push([cb.key(["item", i]), encodeEnvelope(header, JSON.stringify({ i, text: "x".repeat(40) }), tags), 3600]);
  }
  // Keys of another app sharing the database: never listed.
  for (let i = 0; i < 500; i++) rows.push([`${PREFIX}other-app:entry:item:[${i}]`, "{}", 3600]);
  await write(rows);
}, 60_000);

afterAll(async () => {
  await inspector?.close();
  if (raw) await deleteUnder(PREFIX);
  await servers?.close();
});

const request = (extra: Partial<ListRequest> = {}): ListRequest => ({ prefix: PREFIX, kind: "data", cursor: "0", pageSize: 500, ...extra });

/** Every row of a listing, following the cursor to its end; and how many pages that took. */
async function everything(req: ListRequest): Promise<{ rows: EntryRow[]; pages: number; ms: number }> {
  const rows: EntryRow[] = [];
  let cursor = "0";
  let pages = 0;
  const started = performance.now();
  do {
    const page = await listEntries(raw, { ...req, cursor }, Date.now());
    rows.push(...page.rows);
    cursor = page.cursor;
    pages += 1;
  } while (cursor !== "0" && pages < 1000);
  return { rows, pages, ms: performance.now() - started };
}

describe("the inspector's listing", () => {
  it("pages through 10,000 entries with the SCAN cursor: every one listed, none of another prefix, no value loaded", async () => {
    const { rows, pages, ms } = await everything(request());
    const keys = new Set(rows.map((row) => row.key));
    // SCAN may return a key twice while Redis rehashes (other suites write to the same server); never misses one.
    expect(keys.size).toBe(ENTRIES);
    for (let i = 0; i < ENTRIES; i += 997) expect(keys.has(cb.key(["item", i]))).toBe(true);
    expect(pages).toBeGreaterThanOrEqual(ENTRIES / 1000);
    expect(rows.every((row) => row.job === "item" && row.status === "fresh")).toBe(true);
    console.log(`inspector: listed ${ENTRIES} entries in ${pages} pages of ~500 in ${Math.round(ms)} ms`);

    // Through the page's own endpoint: one page of 50, its HTML small whatever the values weigh.
    await raw.set(cb.key(["item", "big"]), encodeEnvelope({ writtenAt: Date.now(), freshUntil: Date.now() + 60_000, version: 1 }, JSON.stringify("y".repeat(2_000_000))), { ex: 600 });
    const started = performance.now();
    const response = await fetch(`${inspector.url}api/view?size=50&key=big`, { headers: { "x-inspector-token": inspector.token } });
    const view = (await response.json()) as { entries: string; nextCursor: string };
    const elapsed = performance.now() - started;
    expect(response.status).toBe(200);
    expect(view.entries).toContain("2.0 MB");
    expect(JSON.stringify(view).length).toBeLessThan(50_000);
    console.log(`inspector: /api/view filtered by key over ${ENTRIES + 1} entries answered in ${Math.round(elapsed)} ms`);
    const first = performance.now();
    const page = await fetch(`${inspector.url}api/view?size=50`, { headers: { "x-inspector-token": inspector.token } });
    expect((await page.json()) as { nextCursor: string }).toMatchObject({ nextCursor: expect.stringMatching(/^[1-9]\d*$/) });
    console.log(`inspector: the first page of 50 of ${ENTRIES + 1} entries answered in ${Math.round(performance.now() - first)} ms`);
  });

  it("filters by job, by key and by tag, exactly", async () => {
    await cb.set(["other", "ACME"], 1, { lifetime: 60 });
    await cb.set("itemless", 1, { lifetime: 60 });
    const byJob = await everything(request({ job: "other" }));
    expect(byJob.rows.map((row) => [row.job, row.args])).toEqual([["other", '["ACME"]']]);
    // "item" is a prefix of "itemless": the job filter is exact.
    expect((await everything(request({ job: "itemless" }))).rows.map((row) => row.key)).toEqual([cb.key("itemless")]);

    const byKey = await everything(request({ key: "[4242]" }));
    expect(byKey.rows.map((row) => row.key)).toEqual([cb.key(["item", 4242])]);
    const byTag = await everything(request({ tag: "thousands" }));
    expect(byTag.rows.map((row) => row.args).sort()).toEqual(["[0]", "[1000]", "[2000]", "[3000]", "[4000]", "[5000]", "[6000]", "[7000]", "[8000]", "[9000]"]);
    expect(byTag.rows[0]!.tags).toEqual(["thousands", expect.stringMatching(/^item:\d+$/)]);
    expect((await everything(request({ tag: "item:7000" }))).rows.map((row) => row.args)).toEqual(["[7000]"]);
  });
});

describe("statuses, as next-cacheback decides them", () => {
  const status = async (key: string) => {
    const page = await listEntries(raw, { prefix: PREFIX, kind: key.includes(":hentry:") ? "page" : "data", cursor: "0", pageSize: 50, key: key.slice(key.indexOf("entry:") + 6) }, Date.now());
    return page.rows.find((row) => row.key === key);
  };

  it("fresh, stale past its lifetime, invalidated, stale by tag, expired by tag, unreadable; a hashed key shows its hash", async () => {
    await cb.set(["s", "fresh"], 1, { lifetime: 60 });
    await cb.set(["s", "old"], 1, { lifetime: 0 });
    await cb.set(["s", "invalidated"], 1, { lifetime: 60 });
    await new UpstashStore(redis).markStale(cb.key(["s", "invalidated"]), Date.now() * 1000);
    await cb.set(["s", "revalidated"], 1, { lifetime: 60, tags: ["posts"] });
    await cb.set(["s", "updated"], 1, { lifetime: 60, tags: ["feed", "users"] });
    await cb.revalidateTag("posts");
    await cb.updateTag("users");
    await raw.set(`${PREFIX}entry:s:["junk"]`, "not an envelope", { ex: 60 });
    await cb.set(["s", "y".repeat(300)], 1, { lifetime: 60 });

    expect(await status(cb.key(["s", "fresh"]))).toMatchObject({ status: "fresh", job: "s", args: '["fresh"]', tags: [] });
    expect(await status(cb.key(["s", "old"]))).toMatchObject({ status: "stale", reason: "past its lifetime" });
    expect(await status(cb.key(["s", "invalidated"]))).toMatchObject({ status: "stale", reason: "invalidated", freshUntil: 0 });
    expect(await status(cb.key(["s", "revalidated"]))).toMatchObject({ status: "stale-by-tag", reason: "tag posts (revalidateTag)", tags: ["posts"] });
    expect(await status(cb.key(["s", "updated"]))).toMatchObject({ status: "expired-by-tag", tags: ["feed", "users"] });
    expect(await status(`${PREFIX}entry:s:["junk"]`)).toMatchObject({ status: "unreadable", writtenAt: null });
    const hashed = cb.key(["s", "y".repeat(300)]);
    expect(hashed).toMatch(/:#[0-9a-f]{64}$/);
    expect(await status(hashed)).toMatchObject({ status: "fresh", job: "s", args: null, hash: hashed.slice(-64) });
  });

  it("'use cache: remote' entries: fresh, stale past revalidate, stale and expired by tag", async () => {
    const now = Date.now();
    const page = (version: number, revalidate: number, tags: string[]) =>
      `cbh1 ${version}\n{"timestamp":${now - 5000},"revalidate":${revalidate},"expire":3600,"stale":300}\n${tags.map((t) => `${t}\n`).join("")}\n${Buffer.from("<p>hi</p>").toString("base64")}`;
    const version = (await cb.revalidateTag("pages-a")).version! - 1;
    await cb.updateTag("pages-b");
    await write([
      [`${PREFIX}hentry:fresh`, page(Number.MAX_SAFE_INTEGER, 60, ["pages-a"]), 600],
      [`${PREFIX}hentry:old`, page(Number.MAX_SAFE_INTEGER, 1, []), 600],
      [`${PREFIX}hentry:by-a`, page(version, 60, ["pages-a"]), 600],
      [`${PREFIX}hentry:by-b`, page(version, 60, ["x", "pages-b"]), 600],
    ]);
    expect(await status(`${PREFIX}hentry:fresh`)).toMatchObject({ status: "fresh", job: null, id: "fresh", tags: ["pages-a"] });
    expect(await status(`${PREFIX}hentry:old`)).toMatchObject({ status: "stale", reason: "past its revalidate" });
    expect(await status(`${PREFIX}hentry:by-a`)).toMatchObject({ status: "stale-by-tag", reason: "tag pages-a" });
    expect(await status(`${PREFIX}hentry:by-b`)).toMatchObject({ status: "expired-by-tag", tags: ["x", "pages-b"] });
  });
});
