import { execFile } from "node:child_process";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { trace, SpanKind } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cacheback } from "../../src/cacheback.js";
import type { RefreshBatch } from "../../src/message.js";
import { ensureBuilt, ROOT } from "../helpers/built-package.js";
import { registerOtel, telemetryOn, valueWhere, type OtelHarness } from "../helpers/otel.js";
import { eventually } from "../helpers/wait.js";
import { startStack, type Stack } from "../reliability/fixture.js";

// OpenTelemetry through the dev QStash server and a refresh route served over HTTP: the trace context a
// stale read puts in the message comes back with the delivery, and a batch's delivery links to every
// read. Then the built package in plain Node: with the API and a provider, and without the API at all.
const run = promisify(execFile);

let stack: Stack;
let cb: Cacheback;
let otel: OtelHarness;
const calls = new Map<string, number>();
const quote = async (symbol: string) => {
  calls.set(symbol, (calls.get(symbol) ?? 0) + 1);
  return { symbol, n: calls.get(symbol) };
};

beforeAll(async () => {
  otel = registerOtel();
  stack = await startStack({ label: "otel" });
  // A wide window, so that a loaded machine cannot split one page's refreshes over two messages.
  cb = stack.instance({ batchWindow: 250 });
  stack.route(cb.createRefreshHandler({ jobs: { quote } }));
  await telemetryOn(cb);
});

afterAll(async () => {
  await stack?.close();
  await otel?.dispose();
});

describe("traces through QStash", () => {
  it("a page's stale reads: one publish linked to every read, one delivery linked to every read, each refresh a child of its read", async () => {
    const symbols = ["T1", "T2", "T3"];
    for (const s of symbols) await cb.set(["quote", s], { symbol: s, n: 0 }, { lifetime: 0 });
    const page = await trace.getTracer("app").startActiveSpan("page", async (span) => {
      const reads = await Promise.all(symbols.map((s) => cb.fetchWithStatus(["quote", s], quote, { lifetime: 60 })));
      span.end();
      return { reads, span };
    });
    for (const r of page.reads) expect(r.status).toBe("stale");
    await Promise.all(page.reads.map((r) => r.background));
    const [message] = stack.messagesAbout('"args":["T1"]');
    expect((JSON.parse(message!.body!) as RefreshBatch).refreshes.map((r) => r.trace?.traceparent.slice(0, 3))).toEqual(["00-", "00-", "00-"]);
    await eventually("three refresh spans", async () => otel.named("cacheback.refresh").length === 3, 20_000);
    for (const s of symbols) expect(await cb.peek(["quote", s]), s).toMatchObject({ status: "hit", value: { symbol: s, n: 1 } });

    const pageId = page.span.spanContext().spanId;
    const reads = otel.named("cacheback.read").filter((r) => r.parentSpanContext?.spanId === pageId);
    expect(reads).toHaveLength(3);
    const readIds = reads.map((r) => r.spanContext().spanId).sort();

    const [publish] = otel.named("cacheback.publish");
    expect(publish!.attributes).toMatchObject({ "messaging.system": "qstash", "cacheback.refresh.count": 3, "messaging.message.id": message!.messageId });
    expect(publish!.links.map((l) => l.context.spanId).sort()).toEqual(readIds);

    const [delivery] = otel.named("cacheback.delivery");
    expect(delivery!.kind).toBe(SpanKind.CONSUMER);
    expect(delivery!.links.map((l) => l.context.spanId).sort()).toEqual(readIds);
    for (const refresh of otel.named("cacheback.refresh")) {
      const read = reads.find((r) => r.spanContext().spanId === refresh.parentSpanContext?.spanId);
      expect(read, "the refresh's parent is one of the reads").toBeDefined();
      expect(refresh.spanContext().traceId).toBe(read!.spanContext().traceId);
      expect(refresh.links.map((l) => l.context.spanId)).toEqual([delivery!.spanContext().spanId]);
      expect(refresh.attributes).toMatchObject({ "cacheback.refresh.origin": "route", "cacheback.refresh.outcome": "written", "messaging.system": "qstash" });
    }
    expect(new Set(otel.named("cacheback.refresh").map((r) => r.parentSpanContext?.spanId)).size).toBe(3);

    const refreshes = await otel.metric("cacheback.refreshes");
    expect(valueWhere(refreshes?.points, { "cacheback.refresh.origin": "route", "cacheback.refresh.outcome": "written" })).toBe(3);
  }, 30_000);
});

/** Runs an ES module in a child Node.js process (the built package, as an app loads it) and returns what it prints. */
async function node(source: string): Promise<string> {
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", source], { cwd: ROOT, timeout: 30_000 });
  return stdout.trim();
}

describe("the built package in plain Node.js", () => {
  beforeAll(() => ensureBuilt());
  const entry = pathToFileURL(`${ROOT}dist/index.js`).href;
  const reads = `
    const cb = lib.createCacheback({ refreshUrl: "http://127.0.0.1:9/api/cacheback", signingKeys: { current: "sig_a_0123456789", next: "sig_b_0123456789" } });
    await cb.set(["quote", "A"], 1);
    const hit = await cb.fetchWithStatus(["quote", "A"], async () => 2);
    const miss = await cb.fetchWithStatus(["quote", "B"], async () => 3);
  `;

  it("loads @opentelemetry/api on its own and traces reads, the first one included, when a provider is registered", async () => {
    const out = await node(`
      import { trace } from "@opentelemetry/api";
      import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
      const exporter = new InMemorySpanExporter();
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
      const lib = await import(${JSON.stringify(entry)});
      ${reads}
      console.log(JSON.stringify({ on: (await cb.telemetry()) !== undefined, spans: exporter.getFinishedSpans().map((s) => s.name + ":" + s.attributes["cacheback.status"]) }));
    `);
    expect(JSON.parse(out)).toEqual({ on: true, spans: ["cacheback.read:hit", "cacheback.read:miss"] });
  });

  it("without @opentelemetry/api at all, stays off and reads as always", async () => {
    const out = await node(`
      import { register } from "node:module";
      // As if the optional peer dependency were not installed: nothing named @opentelemetry/* resolves.
      register("data:text/javascript," + encodeURIComponent(
        "export async function resolve(s, c, next) { if (s.startsWith('@opentelemetry/')) { const e = new Error('Cannot find package ' + s); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return next(s, c); }"
      ));
      let missing = false;
      try { await import("@opentelemetry/api"); } catch { missing = true; }
      const lib = await import(${JSON.stringify(entry)});
      ${reads}
      console.log(JSON.stringify({ missing, on: (await cb.telemetry()) !== undefined, hit: [hit.status, hit.value], miss: [miss.status, miss.value] }));
    `);
    expect(JSON.parse(out)).toEqual({ missing: true, on: false, hit: ["hit", 1], miss: ["miss", 3] });
  });
});
