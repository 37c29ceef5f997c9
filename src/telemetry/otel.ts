import type * as Api from "@opentelemetry/api";
import type { RefreshMessage } from "../message.js";
import type { ReadOutcome, Registered, RefreshOrigin, RefreshRecord, RefreshRun, SpanRef, Telemetry, TelemetryOptions, TraceCarrier } from "./types.js";
import { Instruments } from "./metrics.js";
import { fromCarrier, toCarrier } from "./w3c.js";

/** The instrumentation scope of the library's tracer and meter. */
export const SCOPE = "next-cacheback";

/** The most of a read's arguments a span records (with `recordArgs`), in characters of JSON. */
const MAX_ARGS_CHARS = 1024;

// SpanKind and SpanStatusCode values (fixed by the specification; read from the API's enums would need them loaded here).
const INTERNAL = 0;
const PRODUCER = 3;
const CONSUMER = 4;
const ERROR = 2;

/** An error's `error.type`: its class name (`CachebackTimeoutError`, `TypeError`...), or `_OTHER`. */
function errorType(error: unknown): string {
  return error instanceof Error ? error.name : "_OTHER";
}

/** The job name of a cache key, as the span and the metrics name it. */
function jobOf(key: unknown): string {
  const name = Array.isArray(key) ? key[0] : key;
  return typeof name === "string" ? name : "";
}

function argsOf(key: unknown): string | undefined {
  if (!Array.isArray(key)) return "[]";
  try {
    return JSON.stringify(key.slice(1)).slice(0, MAX_ARGS_CHARS);
  } catch {
    return undefined;
  }
}

/**
 * The OpenTelemetry side of an instance: a span per read (`cacheback.read`), per publish
 * (`cacheback.publish`), per refresh (`cacheback.refresh`) and per batch delivery (`cacheback.delivery`),
 * and counters and histograms, each only when its provider is registered.
 */
export class Otel implements Telemetry {
  readonly #api: typeof Api;
  readonly #tracer: Api.Tracer | undefined;
  readonly #metrics: Instruments | undefined;
  readonly #recordArgs: boolean;
  readonly #now: () => number;

  constructor(api: typeof Api, found: Registered, options: TelemetryOptions, now: () => number) {
    this.#api = api;
    this.#tracer = found.tracing ? api.trace.getTracer(SCOPE) : undefined;
    this.#metrics = found.metrics ? new Instruments(api.metrics.getMeter(SCOPE)) : undefined;
    this.#recordArgs = options.recordArgs === true;
    this.#now = now;
  }

  read(key: unknown, valueOnly: boolean, run: (span: SpanRef) => Promise<ReadOutcome>): Promise<unknown> {
    const api = this.#api;
    const job = jobOf(key);
    let span: Api.Span | undefined;
    let reading: Promise<ReadOutcome>;
    if (this.#tracer) {
      const parent = api.context.active();
      const attributes: Api.Attributes = { "cacheback.job": job };
      if (this.#recordArgs) attributes["cacheback.args"] = argsOf(key);
      span = this.#tracer.startSpan("cacheback.read", { kind: INTERNAL, attributes }, parent);
      reading = api.context.with(api.trace.setSpan(parent, span), run, undefined, span);
    } else {
      reading = run(null);
    }
    return reading.then(
      (result) => {
        if (span) {
          const attributes: Api.Attributes = {
            "cacheback.status": result.status,
            "cacheback.reason": result.reason,
            "cacheback.sync_fetch": result.syncFetch,
            "cacheback.refresh.scheduled": result.refreshScheduled,
          };
          if (result.age !== null) attributes["cacheback.entry.age"] = result.age;
          if (result.tag !== undefined) attributes["cacheback.tag"] = result.tag;
          if (result.fromMemory) attributes["cacheback.memory"] = true;
          span.setAttributes(attributes);
          span.end();
        }
        this.#metrics?.reads.add(job, result.status, result.reason, () => ({ "cacheback.job": job, "cacheback.status": result.status, "cacheback.reason": result.reason }));
        return valueOnly ? result.value : result;
      },
      (error: unknown) => {
        if (span) this.#fail(span, error).end();
        const type = errorType(error);
        this.#metrics?.reads.add(job, "error", type, () => ({ "cacheback.job": job, "error.type": type }));
        throw error;
      },
    );
  }

  carrier(span?: SpanRef): TraceCarrier | undefined {
    if (!this.#tracer) return undefined;
    const api = this.#api;
    return toCarrier(api, span ? (span as Api.Span).spanContext() : api.trace.getSpanContext(api.context.active()));
  }

  async publish(queue: string, refreshes: readonly { job: string; trace?: TraceCarrier }[], run: () => Promise<{ messageId: string }>): Promise<{ messageId: string }> {
    const api = this.#api;
    const started = performance.now();
    let span: Api.Span | undefined;
    if (this.#tracer) {
      const attributes: Api.Attributes = {
        "messaging.system": queue,
        "messaging.operation.type": "send",
        "messaging.operation.name": "publish",
        "cacheback.refresh.count": refreshes.length,
      };
      // One refresh: a child of the read that queued it. Several (one message for a page's refreshes): a
      // span of its own, linked to each of their reads.
      let parent = api.context.active();
      let links: Api.Link[] | undefined;
      if (refreshes.length === 1) {
        attributes["cacheback.job"] = refreshes[0]!.job;
        const read = fromCarrier(api, refreshes[0]!.trace, false); // a read of this process
        if (read) parent = api.trace.setSpanContext(parent, read);
      } else {
        links = this.#links(refreshes.map((r) => r.trace));
      }
      span = this.#tracer.startSpan("cacheback.publish", { kind: PRODUCER, attributes, links, root: links !== undefined }, parent);
    }
    const labels: Api.Attributes = { "messaging.system": queue, "messaging.operation.type": "send", "messaging.operation.name": "publish" };
    try {
      // The queue client's own spans (its HTTP request) are the publish's children.
      const published = await (span ? api.context.with(api.trace.setSpan(api.context.active(), span), run) : run());
      span?.setAttribute("messaging.message.id", published.messageId);
      return published;
    } catch (error) {
      if (span) this.#fail(span, error);
      labels["error.type"] = errorType(error);
      throw error;
    } finally {
      span?.end();
      this.#metrics?.sent.add(1, labels);
      this.#metrics?.publishDuration.record((performance.now() - started) / 1000, labels);
    }
  }

  async delivery<T>(queue: string, messages: readonly RefreshMessage[], run: (span: SpanRef) => Promise<T>, failed: (result: T) => boolean): Promise<T> {
    if (!this.#tracer) return run(null);
    const api = this.#api;
    const parent = api.context.active();
    const span = this.#tracer.startSpan(
      "cacheback.delivery",
      {
        kind: CONSUMER,
        attributes: { "messaging.system": queue, "messaging.operation.type": "process", "messaging.operation.name": "process", "cacheback.refresh.count": messages.length },
        links: this.#links(messages.map((m) => m.trace)),
      },
      parent,
    );
    try {
      const result = await api.context.with(api.trace.setSpan(parent, span), run, undefined, span);
      if (failed(result)) span.setStatus({ code: ERROR, message: "a refresh failed: the queue retries the message" });
      return result;
    } catch (error) {
      this.#fail(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  async refresh<T>(queue: string, how: RefreshRun, run: () => Promise<T>, record: (result: T) => RefreshRecord): Promise<T> {
    const { message, origin } = how;
    let span: Api.Span | undefined;
    let result: T;
    if (this.#tracer) {
      const api = this.#api;
      const active = api.context.active();
      const read = fromCarrier(api, message.trace);
      // A child of the read that queued it; linked to the delivery that carried it with others, or else to
      // what was active (the route's HTTP request), which a child of the read is not.
      const parent = read ? api.trace.setSpanContext(active, read) : active;
      const request = origin === "route" && read ? api.trace.getSpanContext(active) : undefined;
      const links = how.delivery
        ? [{ context: (how.delivery as Api.Span).spanContext() }]
        : request && api.isSpanContextValid(request)
          ? [{ context: request }]
          : undefined;
      const attributes: Api.Attributes = {
        "cacheback.job": message.job,
        "cacheback.refresh.origin": origin,
        "cacheback.refresh.queue_time": Math.max(0, this.#now() - message.queuedAt) / 1000,
      };
      if (origin === "route") Object.assign(attributes, { "messaging.system": queue, "messaging.operation.type": "process", "messaging.operation.name": "process" });
      if (how.fallback) attributes["cacheback.refresh.fallback"] = how.fallback;
      if (this.#recordArgs) attributes["cacheback.args"] = argsOf([message.job, ...message.args]);
      span = this.#tracer.startSpan("cacheback.refresh", { kind: origin === "route" ? CONSUMER : INTERNAL, attributes, links }, parent);
      try {
        result = await api.context.with(api.trace.setSpan(parent, span), run);
      } catch (error) {
        this.#fail(span, error).end();
        this.#count(message.job, origin, { outcome: "failed", error });
        throw error;
      }
    } else {
      result = await run();
    }
    const rec = record(result);
    if (span) {
      span.setAttribute("cacheback.refresh.outcome", rec.outcome);
      if (rec.phase) span.setAttribute("cacheback.refresh.phase", rec.phase);
      if (rec.outcome === "failed" || rec.outcome === "dropped") this.#fail(span, rec.error);
      span.end();
    }
    this.#count(message.job, origin, rec);
    return result;
  }

  job(job: string, origin: RefreshOrigin, seconds: number, error?: unknown): void {
    if (!this.#metrics) return;
    const labels: Api.Attributes = { "cacheback.job": job, "cacheback.refresh.origin": origin };
    if (error !== undefined) labels["error.type"] = errorType(error);
    this.#metrics.jobDuration.record(seconds, labels);
  }

  refreshed(job: string, record: RefreshRecord): void {
    this.#count(job, "read", record);
  }

  #count(job: string, origin: RefreshOrigin, record: RefreshRecord): void {
    if (!this.#metrics) return;
    const { outcome } = record;
    const type = outcome === "failed" ? errorType(record.error) : undefined;
    this.#metrics.refreshes.add(job, origin, type === undefined ? outcome : `${outcome} ${type}`, () => {
      const labels: Api.Attributes = { "cacheback.job": job, "cacheback.refresh.origin": origin, "cacheback.refresh.outcome": outcome };
      if (type !== undefined) labels["error.type"] = type;
      return labels;
    });
  }

  /** Links to the valid span contexts among `carriers`. */
  #links(carriers: readonly (TraceCarrier | undefined)[]): Api.Link[] {
    const links: Api.Link[] = [];
    for (const carrier of carriers) {
      const context = fromCarrier(this.#api, carrier);
      if (context) links.push({ context });
    }
    return links;
  }

  /** Marks `span` failed with `error` (recorded as an exception when it is one). */
  #fail(span: Api.Span, error: unknown): Api.Span {
    if (error instanceof Error) {
      span.recordException(error);
      span.setAttribute("error.type", error.name);
    }
    span.setStatus({ code: ERROR, message: error instanceof Error ? error.message : typeof error === "string" ? error : undefined });
    return span;
  }
}
