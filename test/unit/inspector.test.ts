import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { dataStatus, tagsFromTail } from "../../packages/dev/src/inspector/data-entries.js";
import { bytes, duration, escapeHtml, html } from "../../packages/dev/src/inspector/html.js";
import { decodeEntryId, globEscape } from "../../packages/dev/src/inspector/keys.js";
import { refreshesIn } from "../../packages/dev/src/inspector/messages.js";
import { pageStatus, parsePageHead } from "../../packages/dev/src/inspector/page-entries.js";
import { answerSummary } from "../../packages/dev/src/inspector/render-messages.js";
import { checkAction, checkHost, checkToken } from "../../packages/dev/src/inspector/security.js";
import { parseQuery } from "../../packages/dev/src/inspector/view.js";
import { encodeEnvelope } from "../../src/entry.js";
import { entryKeys } from "../../src/keys.js";
import { encodeStamp, parseStamp } from "../../src/tags/stamps.js";

describe("inspector: keys", () => {
  it("reads the job and arguments back from what the library writes, and the hash of a long key", () => {
    for (const [name, args] of [
      ["quote", ["ACME"]],
      ["feed", [42, { page: 2, sort: "new" }]],
      ["a:b", [":[", "]"]],
      ["headline", []],
    ] as const) {
      const id = entryKeys("p:", name, args).id;
      expect(decodeEntryId(id)).toEqual({ job: name, args: [...args], hash: undefined });
    }
    const long = entryKeys("p:", "search", ["q".repeat(300)]).id;
    expect(decodeEntryId(long)).toEqual({ job: "search", args: undefined, hash: long.slice(-64) });
  });

  it("escapes MATCH's glob characters", () => {
    expect(globEscape("a*b?c[d]e\\f")).toBe("a\\*b\\?c\\[d\\]e\\\\f");
  });
});

describe("inspector: reading an entry without its value", () => {
  const header = { writtenAt: 1000, freshUntil: 61_000, version: 1_000_000 };

  it("finds the tags at the end of an envelope, never inside its value", () => {
    const tail = (value: unknown, tags?: string[]) => encodeEnvelope(header, JSON.stringify(value), tags).slice(-2048);
    expect(tagsFromTail(tail("plain"))).toEqual([]);
    expect(tagsFromTail(tail({ a: 1 }, ["posts", "post:1"]))).toEqual(["posts", "post:1"]);
    expect(tagsFromTail(tail({ tags: ["fake"] }))).toEqual([]);
    expect(tagsFromTail(tail({ x: ',"tags":["fake"]}' }, ["real"]))).toEqual(["real"]);
    expect(tagsFromTail(tail(["a", "b"]))).toBeUndefined(); // a list of strings ending it: read again, longer
    expect(tagsFromTail(tail({ v: 1 }, ['we"ird', "back\\slash"]))).toEqual(['we"ird', "back\\slash"]);
  });

  it("decides the status as the read path does", () => {
    const stamp = (stale: number, expired: number) => parseStamp(encodeStamp({ stale, expired, laterVersion: 0, laterAt: 0, pages: 0 }));
    expect(dataStatus(header, [], [], 30_000)).toEqual({ status: "fresh", reason: "" });
    expect(dataStatus(header, [], [], 61_000)).toEqual({ status: "stale", reason: "past its lifetime" });
    expect(dataStatus({ ...header, freshUntil: 0 }, [], [], 30_000)).toEqual({ status: "stale", reason: "invalidated" });
    expect(dataStatus(header, ["a"], [stamp(2_000_000, 0)], 30_000)).toMatchObject({ status: "stale-by-tag", reason: "tag a (revalidateTag)" });
    expect(dataStatus(header, ["a", "b"], [stamp(2_000_000, 0), stamp(0, 2_000_000)], 30_000)).toMatchObject({ status: "expired-by-tag" });
    expect(dataStatus(header, ["a"], [stamp(500_000, 0)], 30_000).status).toBe("fresh");
  });

  it("reads a page entry's head: metadata and tags, or says it stops inside the tags", () => {
    const text = `cbh1 77\n{"timestamp":1000,"revalidate":60,"expire":3600,"stale":300}\nposts\n_N_T_/blog\n\nPHA+aGk8L3A+`;
    const head = parsePageHead(text)!;
    expect(head).toEqual({ version: 77, timestamp: 1000, revalidate: 60, expire: 3600, tags: ["posts", "_N_T_/blog"] });
    expect(parsePageHead(text.slice(0, 70))).toBeUndefined();
    expect(parsePageHead("{}")).toBeNull();
    expect(pageStatus(head, [null, null], 30_000).status).toBe("fresh");
    expect(pageStatus(head, [null, null], 62_000)).toEqual({ status: "stale", reason: "past its revalidate" });
    expect(pageStatus({ ...head, expire: -1 }, [], 0)).toEqual({ status: "expired", reason: "evicted" });
    expect(pageStatus(head, [parseStamp("[0,0,0,0,78]"), null], 30_000)).toEqual({ status: "stale-by-tag", reason: "tag posts" });
  });
});

describe("inspector: messages and answers", () => {
  it("reads the refreshes a message carries, single or batched", () => {
    expect(refreshesIn(JSON.stringify({ v: 1, job: "quote", args: ["ACME"], lock: "t", queuedAt: 1, options: {}, tags: ["q"] }))).toEqual([
      { job: "quote", args: '["ACME"]', tags: ["q"] },
    ]);
    const batch = { v: 2, refreshes: [{ v: 1, job: "a", args: [1] }, { v: 1, job: "b", args: [] }] };
    expect(refreshesIn(JSON.stringify(batch)).map((r) => r.job)).toEqual(["a", "b"]);
    expect(refreshesIn("not json")).toEqual([]);
    expect(refreshesIn(JSON.stringify({ hello: "world" }))).toEqual([]);
  });

  it("sums up an answer: the route's error or status, else the body", () => {
    expect(answerSummary('{"ok":false,"job":"quote","error":"SourceUnavailableError: down"}')).toBe("SourceUnavailableError: down");
    expect(answerSummary('{"ok":true,"job":"quote","status":"written"}')).toBe("quote: written");
    expect(answerSummary("Bad\n  Gateway")).toBe("Bad Gateway");
  });
});

describe("inspector: HTML and words", () => {
  it("escapes every interpolated value", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
    expect(html`<td data-key="${'"><script>'}">${["<b>", html`<i>ok</i>`]}</td>`.text).toBe('<td data-key="&quot;&gt;&lt;script&gt;">&lt;b&gt;<i>ok</i></td>');
  });

  it("says durations and sizes in words", () => {
    expect([850, 12_000, 243_000, 7_500_000, 2_592_000_000 - 1].map(duration)).toEqual(["850 ms", "12 s", "4 min 3 s", "2 h 5 min", "29 d 23 h"]);
    expect([812, 4_200, 1_300_000].map(bytes)).toEqual(["812 B", "4.2 kB", "1.3 MB"]);
  });

  it("reads the page's query, with defaults for anything missing or malformed", () => {
    expect(parseQuery(new URLSearchParams(""), "cacheback:")).toEqual({ prefix: "cacheback:", kind: "data", job: "", key: "", tag: "", cursor: "0", pageSize: 50, messages: 20 });
    expect(parseQuery(new URLSearchParams("prefix=shop:&kind=page&cursor=123&size=9999&messages=x"), "cacheback:")).toMatchObject({
      prefix: "shop:",
      kind: "page",
      cursor: "123",
      pageSize: 500,
      messages: 20,
    });
    expect(parseQuery(new URLSearchParams("cursor=1;DEL"), "p:").cursor).toBe("0");
  });
});

describe("inspector: the checks every request goes through", () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

  it("Host: 127.0.0.1 or localhost on its port only", () => {
    expect(checkHost(req({ host: "127.0.0.1:8078" }), 8078)).toBeUndefined();
    expect(checkHost(req({ host: "LOCALHOST:8078" }), 8078)).toBeUndefined();
    expect(checkHost(req({ host: "evil.example:8078" }), 8078)?.status).toBe(421);
    expect(checkHost(req({ host: "127.0.0.1:9999" }), 8078)?.status).toBe(421);
    expect(checkHost(req({}), 8078)?.status).toBe(421);
  });

  it("the token, compared in constant time", () => {
    expect(checkToken(req({ "x-inspector-token": "s3cret" }), "s3cret")).toBeUndefined();
    expect(checkToken(req({ "x-inspector-token": "s3cre" }), "s3cret")?.status).toBe(403);
    expect(checkToken(req({}), "s3cret")?.status).toBe(403);
  });

  it("an action: its own origin (when the browser names one), same-origin fetch metadata, JSON", () => {
    const json = { "content-type": "application/json" };
    expect(checkAction(req(json), 8078)).toBeUndefined();
    expect(checkAction(req({ ...json, origin: "http://localhost:8078", "sec-fetch-site": "same-origin" }), 8078)).toBeUndefined();
    expect(checkAction(req({ ...json, origin: "http://127.0.0.1:3000" }), 8078)?.status).toBe(403);
    expect(checkAction(req({ ...json, "sec-fetch-site": "same-site" }), 8078)?.status).toBe(403);
    expect(checkAction(req({ "content-type": "multipart/form-data" }), 8078)?.status).toBe(415);
  });
});
