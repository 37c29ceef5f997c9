import { context, trace, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it, vi } from "vitest";
import { buildRefreshMessage, parseDelivery, refreshMessageProblem, type RefreshBatch, type RefreshMessage } from "../../src/message.js";
import { resolveRefreshOptions } from "../../src/options.js";
import { createRefreshHandler } from "../../src/route/handler.js";
import { harness, RecordingQueue } from "../helpers/harness.js";
import { registerOtel, telemetryOn, valueWhere, type OtelHarness } from "../helpers/otel.js";
import { REFRESH_URL, TEST_KEYS, signedRequest } from "../helpers/signed-request.js";

let otel: OtelHarness | undefined;
afterEach(async () => {
  await otel?.dispose();
  otel = undefined;
});

const quote = async (symbol: string) => ({ symbol, price: 42 });

/** An instance (memory store, recording queue, controlled clock) whose refresh route is served in process. */
async function tracedSetup(config: Parameters<typeof harness>[0] = {}) {
  const h = harness({ signingKeys: TEST_KEYS, refreshUrl: REFRESH_URL, ...config });
  const route = createRefreshHandler({ jobs: { quote }, cacheback: h.cb });
  await telemetryOn(h.cb);
  /** Delivers a published body to the refresh route, signed as QStash signs it. */
  const deliver = async (body: RefreshMessage | RefreshBatch) => route(await signedRequest(JSON.stringify(body)));
  return { h, deliver };
}

const ids = (span: ReadableSpan) => ({ traceId: span.spanContext().traceId, spanId: span.spanContext().spanId });
const parentOf = (span: ReadableSpan) => (span.parentSpanContext ? { traceId: span.parentSpanContext.traceId, spanId: span.parentSpanContext.spanId } : undefined);

describe("OpenTelemetry spans", () => {
  it("every read is a cacheback.read span with its job, status, reason, syncFetch and age, and no argument", async () => {
    otel = registerOtel();
    const { h } = await tracedSetup();
    await h.cb.set(["quote", "ACME"], { symbol: "ACME", price: 1 }, { lifetime: 60 });
    h.advance(5);
    expect((await h.cb.fetchWithStatus(["quote", "ACME"], quote, { lifetime: 60 })).status).toBe("hit");
    h.advance(60);
    expect((await h.cb.fetch(["quote", "ACME"], quote, { lifetime: 60 })).price).toBe(1); // stale, through fetch
    expect((await h.cb.fetchWithStatus(["quote", "NEW"], quote)).status).toBe("miss");
    await h.settle();

    const reads = otel.named("cacheback.read");
    expect(reads.map((s) => s.attributes)).toEqual([
      { "cacheback.job": "quote", "cacheback.status": "hit", "cacheback.reason": "fresh", "cacheback.sync_fetch": false, "cacheback.refresh.scheduled": false, "cacheback.entry.age": 5 },
      { "cacheback.job": "quote", "cacheback.status": "stale", "cacheback.reason": "lifetime", "cacheback.sync_fetch": false, "cacheback.refresh.scheduled": true, "cacheback.entry.age": 65 },
      { "cacheback.job": "quote", "cacheback.status": "miss", "cacheback.reason": "absent", "cacheback.sync_fetch": true, "cacheback.refresh.scheduled": false, "cacheback.entry.age": 0 },
    ]);
    for (const span of reads) {
      expect(span.kind).toBe(SpanKind.INTERNAL);
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(span.instrumentationScope.name).toBe("next-cacheback");
    }
    // Nothing on any span names an argument.
    expect(JSON.stringify(otel.spans().map((s) => s.attributes))).not.toMatch(/ACME|NEW/);
  });

  it("a read served from the memory tier says so, and one made stale by a tag names it", async () => {
    otel = registerOtel();
    const { h } = await tracedSetup();
    const opts = { lifetime: 60, memory: { lifetime: 5 }, tags: ["quotes"] };
    await h.cb.fetch(["quote", "ACME"], quote, opts); // miss: fetched and written
    await h.settle();
    await h.cb.fetch(["quote", "ACME"], quote, opts); // a hit from the store, remembered
    await h.cb.fetch(["quote", "ACME"], quote, opts); // from memory
    await h.cb.revalidateTag("quotes");
    h.advance(1);
    await h.cb.fetch(["quote", "ACME"], quote, opts); // stale by the tag
    const reads = otel.named("cacheback.read").map((s) => s.attributes);
    expect(reads.map((a) => [a["cacheback.status"], a["cacheback.reason"], a["cacheback.memory"], a["cacheback.tag"]])).toEqual([
      ["miss", "absent", undefined, undefined],
      ["hit", "fresh", undefined, undefined],
      ["hit", "fresh", true, undefined],
      ["stale", "tag", undefined, "quotes"],
    ]);
  });

  it("with telemetry: { recordArgs: true }, reads and refreshes carry their arguments", async () => {
    otel = registerOtel();
    const { h, deliver } = await tracedSetup({ telemetry: { recordArgs: true } });
    await h.cb.set(["quote", "ACME"], { symbol: "ACME", price: 1 }, { lifetime: 1 });
    h.advance(2);
    await h.cb.fetch(["quote", "ACME"], quote, { lifetime: 60 });
    await h.settle();
    await deliver(h.queue.messages[0]!.body);
    expect(otel.named("cacheback.read")[0]!.attributes["cacheback.args"]).toBe('["ACME"]');
    expect(otel.named("cacheback.refresh")[0]!.attributes["cacheback.args"]).toBe('["ACME"]');
  });

  it("a read is a child of the active span, and what its job does is a child of the read; a failed read is an error", async () => {
    otel = registerOtel();
    const { h } = await tracedSetup();
    const tracer = trace.getTracer("app");
    const source = (symbol: string) => tracer.startActiveSpan("source", async (span) => {
      span.end();
      if (symbol === "BAD") throw new TypeError("the source failed");
      return { symbol };
    });
    await tracer.startActiveSpan("page", async (page) => {
      await h.cb.fetch(["quote", "ACME"], source);
      await expect(h.cb.fetch(["quote", "BAD"], source)).rejects.toThrow("the source failed");
      page.end();
    });
    const [page] = otel.named("page");
    const [ok, failed] = otel.named("cacheback.read");
    const [inner] = otel.named("source");
    expect(parentOf(ok!)).toEqual(ids(page!));
    expect(parentOf(inner!)).toEqual(ids(ok!));
    expect(failed!.status).toMatchObject({ code: SpanStatusCode.ERROR, message: "the source failed" });
    expect(failed!.attributes["error.type"]).toBe("TypeError");
    expect(failed!.events.map((e) => e.name)).toEqual(["exception"]);
  });

  it("a stale read's refresh, delivered to the route, is a child of the read; so is the publish", async () => {
    otel = registerOtel();
    const { h, deliver } = await tracedSetup();
    await h.cb.set(["quote", "ACME"], { symbol: "ACME", price: 1 }, { lifetime: 60 });
    h.advance(61);
    const stale = await h.cb.fetchWithStatus(["quote", "ACME"], quote, { lifetime: 60 });
    await stale.background;
    const [read] = otel.named("cacheback.read");
    const message = h.queue.messages[0]!.body as RefreshMessage;
    expect(message.trace).toEqual({ traceparent: `00-${read!.spanContext().traceId}-${read!.spanContext().spanId}-01` });

    const [publish] = otel.named("cacheback.publish");
    expect(parentOf(publish!)).toEqual(ids(read!));
    expect(publish!.kind).toBe(SpanKind.PRODUCER);
    expect(publish!.attributes).toMatchObject({
      "messaging.system": "recording",
      "messaging.operation.type": "send",
      "messaging.operation.name": "publish",
      "messaging.message.id": "msg_1",
      "cacheback.refresh.count": 1,
      "cacheback.job": "quote",
    });

    h.advance(2);
    expect((await deliver(message)).status).toBe(200);
    const [refresh] = otel.named("cacheback.refresh");
    expect(parentOf(refresh!)).toEqual(ids(read!));
    expect(refresh!.kind).toBe(SpanKind.CONSUMER);
    expect(refresh!.attributes).toMatchObject({
      "cacheback.job": "quote",
      "cacheback.refresh.origin": "route",
      "cacheback.refresh.outcome": "written",
      "cacheback.refresh.queue_time": 2,
      "messaging.operation.type": "process",
    });
    expect(otel.named("cacheback.delivery")).toEqual([]); // one refresh: no delivery span of its own
  });

  it("what the queue client does while publishing (its HTTP request) is a child of the publish", async () => {
    otel = registerOtel();
    const queue = new RecordingQueue();
    const publish = queue.publish.bind(queue);
    queue.publish = (body, options) =>
      trace.getTracer("app").startActiveSpan("POST queue", async (span) => {
        try {
          return await publish(body, options);
        } finally {
          span.end();
        }
      });
    const { h } = await tracedSetup({ queue });
    await h.cb.set(["quote", "ACME"], { symbol: "ACME", price: 1 }, { lifetime: 60 });
    h.advance(61);
    await (await h.cb.fetchWithStatus(["quote", "ACME"], quote, { lifetime: 60 })).background;
    const [publishSpan] = otel.named("cacheback.publish");
    expect(parentOf(otel.named("POST queue")[0]!)).toEqual(ids(publishSpan!));
    expect(publishSpan!.parentSpanContext?.isRemote).toBe(false); // the read is in this process
  });

  it("a batch delivery is a span linked to every read it carries a refresh of; each refresh is a child of its own read", async () => {
    otel = registerOtel();
    const { h, deliver } = await tracedSetup({ batchWindow: 5 });
    for (const s of ["A", "B", "C"]) await h.cb.set(["quote", s], { symbol: s, price: 1 }, { lifetime: 60 });
    h.advance(61);
    const reads = await Promise.all(["A", "B", "C"].map((s) => h.cb.fetchWithStatus(["quote", s], quote, { lifetime: 60 })));
    await Promise.all(reads.map((r) => r.background));
    expect(h.queue.messages).toHaveLength(1);
    const batch = h.queue.messages[0]!.body as RefreshBatch;
    expect(batch.v).toBe(2);
    const readSpans = otel.named("cacheback.read");
    const readOf = (job: string, args: unknown[]) => {
      const i = batch.refreshes.findIndex((r) => r.job === job && r.args[0] === args[0]);
      return readSpans.find((s) => batch.refreshes[i]!.trace!.traceparent.includes(s.spanContext().spanId))!;
    };

    // The publish of several refreshes links to each read.
    const [publish] = otel.named("cacheback.publish");
    expect(publish!.attributes["cacheback.refresh.count"]).toBe(3);
    expect(publish!.links.map((l) => l.context.spanId).sort()).toEqual(readSpans.map((s) => s.spanContext().spanId).sort());

    expect((await deliver(batch)).status).toBe(200);
    const [delivery] = otel.named("cacheback.delivery");
    expect(delivery!.kind).toBe(SpanKind.CONSUMER);
    expect(delivery!.attributes["cacheback.refresh.count"]).toBe(3);
    expect(delivery!.links.map((l) => l.context.spanId).sort()).toEqual(readSpans.map((s) => s.spanContext().spanId).sort());
    const refreshes = otel.named("cacheback.refresh");
    expect(refreshes).toHaveLength(3);
    for (const s of ["A", "B", "C"]) {
      const read = readOf("quote", [s]);
      const refresh = refreshes.find((r) => r.parentSpanContext?.spanId === read.spanContext().spanId);
      expect(refresh, s).toBeDefined();
      expect(refresh!.spanContext().traceId).toBe(read.spanContext().traceId);
      expect(refresh!.links.map((l) => l.context.spanId)).toEqual([delivery!.spanContext().spanId]);
    }
  });

  it("a refresh run in this process when the queue fails is a child of the read too", async () => {
    otel = registerOtel();
    const { h } = await tracedSetup();
    h.queue.failNext = 1;
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      await h.cb.set(["quote", "ACME"], { symbol: "ACME", price: 1 }, { lifetime: 60 });
      h.advance(61);
      await (await h.cb.fetchWithStatus(["quote", "ACME"], quote, { lifetime: 60 })).background;
    } finally {
      error.mockRestore();
      warn.mockRestore();
    }
    const [read] = otel.named("cacheback.read");
    const [publish] = otel.named("cacheback.publish");
    expect(publish!.status.code).toBe(SpanStatusCode.ERROR);
    const [refresh] = otel.named("cacheback.refresh");
    expect(parentOf(refresh!)).toEqual(ids(read!));
    expect(refresh!.kind).toBe(SpanKind.INTERNAL);
    expect(refresh!.attributes).toMatchObject({ "cacheback.refresh.origin": "fallback", "cacheback.refresh.fallback": "publish-failed", "cacheback.refresh.outcome": "written" });
  });

  it("invalidate's refresh is a child of the span active when it was called", async () => {
    otel = registerOtel();
    const { h, deliver } = await tracedSetup();
    await h.cb.set(["quote", "ACME"], { symbol: "ACME", price: 1 });
    await trace.getTracer("app").startActiveSpan("action", async (span) => {
      await h.cb.invalidate(["quote", "ACME"]);
      span.end();
    });
    await deliver(h.queue.messages[0]!.body);
    const [action] = otel.named("action");
    expect(parentOf(otel.named("cacheback.refresh")[0]!)).toEqual(ids(action!));
  });
});

describe("OpenTelemetry metrics", () => {
  it("counts 3 hits, 2 stale reads and 1 miss by status, the refreshes by outcome, and times the jobs", async () => {
    otel = registerOtel({ tracing: false });
    const { h, deliver } = await tracedSetup();
    await h.cb.set(["quote", "A"], { symbol: "A", price: 1 }, { lifetime: 60 });
    await h.cb.set(["quote", "B"], { symbol: "B", price: 1 }, { lifetime: 60 });
    for (let i = 0; i < 3; i++) await h.cb.fetch(["quote", "A"], quote, { lifetime: 60 });
    h.advance(61);
    await h.cb.fetch(["quote", "A"], quote, { lifetime: 60 });
    await h.cb.fetch(["quote", "B"], quote, { lifetime: 60 });
    await h.cb.fetch(["quote", "C"], quote, { lifetime: 60 });
    await h.settle();
    for (const { body } of h.queue.messages) await deliver(body);

    const reads = await otel.metric("cacheback.reads");
    expect(reads?.unit).toBe("{read}");
    expect(valueWhere(reads?.points, { "cacheback.status": "hit" })).toBe(3);
    expect(valueWhere(reads?.points, { "cacheback.status": "stale" })).toBe(2);
    expect(valueWhere(reads?.points, { "cacheback.status": "miss" })).toBe(1);
    expect(reads?.points.every((p) => p.attributes["cacheback.job"] === "quote")).toBe(true);

    const refreshes = await otel.metric("cacheback.refreshes");
    expect(valueWhere(refreshes?.points, { "cacheback.refresh.origin": "route", "cacheback.refresh.outcome": "written" })).toBe(2);
    expect(valueWhere(refreshes?.points, { "cacheback.refresh.origin": "read", "cacheback.refresh.outcome": "written" })).toBe(1);

    const jobs = await otel.metric("cacheback.job.duration");
    expect(jobs?.unit).toBe("s");
    expect(valueWhere(jobs?.points, { "cacheback.refresh.origin": "route" })).toMatchObject({ count: 2 });
    expect(valueWhere(jobs?.points, { "cacheback.refresh.origin": "read" })).toMatchObject({ count: 1 });

    const sent = await otel.metric("messaging.client.sent.messages");
    expect(valueWhere(sent?.points, { "messaging.system": "recording", "messaging.operation.name": "publish" })).toBe(2);
    expect((await otel.metric("messaging.client.operation.duration"))?.unit).toBe("s");
    expect(otel.spans()).toEqual([]); // no tracer provider: no spans
  });

  it("counts failures with their error.type", async () => {
    otel = registerOtel({ tracing: false });
    const { h } = await tracedSetup();
    await expect(h.cb.fetch(["quote", "X"], () => Promise.reject(new RangeError("down")))).rejects.toThrow("down");
    const refreshes = await otel.metric("cacheback.refreshes");
    expect(valueWhere(refreshes?.points, { "cacheback.refresh.outcome": "failed", "error.type": "RangeError" })).toBe(1);
    const jobs = await otel.metric("cacheback.job.duration");
    expect(valueWhere(jobs?.points, { "error.type": "RangeError" })).toMatchObject({ count: 1 });
  });
});

describe("OpenTelemetry off", () => {
  it("without a provider, reads make no span and look up no context, and return what they returned before", async () => {
    const getTracer = vi.spyOn(trace, "getTracer");
    const active = vi.spyOn(context, "active");
    try {
      const h = harness();
      await new Promise((resolve) => setTimeout(resolve, 50)); // what the instance's look for providers takes
      expect(await h.cb.telemetry()).toBeUndefined();
      await h.cb.set(["quote", "ACME"], { symbol: "ACME", price: 1 }, { lifetime: 60 });
      const hit = await h.cb.fetchWithStatus(["quote", "ACME"], quote, { lifetime: 60 });
      expect(hit).toMatchObject({ status: "hit", value: { symbol: "ACME", price: 1 } });
      h.advance(61);
      const stale = await h.cb.fetchWithStatus(["quote", "ACME"], quote, { lifetime: 60 });
      await h.settle();
      expect(stale).toMatchObject({ status: "stale", value: { symbol: "ACME", price: 1 } });
      expect(h.queue.published[0]!.message.trace).toBeUndefined();
      expect(await h.cb.fetch(["quote", "NEW"], quote)).toEqual({ symbol: "NEW", price: 42 });
      expect(getTracer).not.toHaveBeenCalled();
      expect(active).not.toHaveBeenCalled();
    } finally {
      getTracer.mockRestore();
      active.mockRestore();
    }
  });

  it("with a provider registered before the instance is made, its very first read is traced (it waits the few ms telemetry takes to switch on)", async () => {
    otel = registerOtel();
    const h = harness();
    const first = await h.cb.fetchWithStatus(["quote", "A"], quote);
    expect(first.status).toBe("miss");
    expect(otel.named("cacheback.read").map((s) => s.attributes["cacheback.status"])).toEqual(["miss"]);
  });

  it("telemetry: false keeps an instance untraced even with a provider registered", async () => {
    otel = registerOtel();
    const off = harness({ telemetry: false });
    const on = harness();
    await telemetryOn(on.cb);
    expect(await off.cb.telemetry()).toBeUndefined();
    await off.cb.fetch(["quote", "A"], quote);
    expect(otel.spans()).toEqual([]);
    expect(await otel.metric("cacheback.reads")).toBeUndefined();
  });

  it("an instance made before the provider was registered switches on at its next look (1 s later)", async () => {
    const h = harness();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await h.cb.telemetry()).toBeUndefined();
    otel = registerOtel();
    await vi.waitFor(async () => expect(await h.cb.telemetry()).toBeDefined(), { timeout: 2_000, interval: 20 });
    await h.cb.fetch(["quote", "A"], quote);
    expect(otel.named("cacheback.read")).toHaveLength(1);
  });
});

describe("the trace field of refresh messages", () => {
  const message = (trace?: unknown) => ({ ...buildRefreshMessage("quote", ["ACME"], "lock-1", 1, resolveRefreshOptions({})), ...(trace === undefined ? {} : { trace }) });
  const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  it("is optional, and accepted with a W3C traceparent and tracestate (of any version)", () => {
    expect(refreshMessageProblem(message())).toBeUndefined();
    expect(refreshMessageProblem(message({ traceparent }))).toBeUndefined();
    expect(refreshMessageProblem(message({ traceparent, tracestate: "congo=t61rcWkgMzE" }))).toBeUndefined();
    expect(refreshMessageProblem(message({ traceparent: `01-${traceparent.slice(3)}-future` }))).toBeUndefined();
    expect(buildRefreshMessage("quote", [], "l", 1, resolveRefreshOptions({}), [], { traceparent }).trace).toEqual({ traceparent });
  });

  it.each([
    ["a string", traceparent],
    ["no traceparent", {}],
    ["a traceparent that is not one", { traceparent: "00-xyz" }],
    ["a long traceparent", { traceparent: `${traceparent}-${"0".repeat(300)}` }],
    ["a tracestate that is not a string", { traceparent, tracestate: 5 }],
    ["a long tracestate", { traceparent, tracestate: "a=".padEnd(600, "b") }],
  ])("is refused when it is %s, alone in a batch", (_label, trace) => {
    expect(refreshMessageProblem(message(trace))).toMatch(/"trace/);
    const parsed = parseDelivery({ v: 2, refreshes: [message(trace), message()] });
    expect("items" in parsed && parsed.items.map((i) => i.ok)).toEqual([false, true]);
  });
});
