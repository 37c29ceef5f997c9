import type { CacheStatus } from "../events.js";
import type { RefreshMessage, TraceCarrier } from "../message.js";

export type { TraceCarrier } from "../message.js";

/** The instance option `telemetry`: `false` turns OpenTelemetry off for the instance. */
export type TelemetryOption = false | TelemetryOptions;

/** How an instance reports to OpenTelemetry, when a provider is registered. */
export interface TelemetryOptions {
  /**
   * Put the arguments of a read (as JSON, at most 1 kB) and the entry's Redis key, which contains them,
   * on its span (`cacheback.args`, `cacheback.key`). Off by default: arguments can be personal data.
   * @default false
   */
  recordArgs?: boolean;
}

/** A span of the library's own, opaque to the core (`null` where there is none: tracing is off). */
export type SpanRef = object | null;

/** What a read tells its span and its metrics (a `CachebackResult`, seen from the outside). */
export interface ReadOutcome {
  value: unknown;
  status: CacheStatus;
  reason: string;
  tag?: string;
  syncFetch: boolean;
  age: number | null;
  refreshScheduled: boolean;
  fromMemory?: true;
}

/** Where a refresh ran: delivered to the refresh route, in this process because the queue failed, or during a read. */
export type RefreshOrigin = "route" | "fallback" | "read";

/** What became of one refresh, for its span and its metrics. */
export interface RefreshRecord {
  /** `dropped`: it could never succeed (an unknown job, arguments refused); `failed`: worth a retry, or not. */
  outcome: "written" | "skipped-newer" | "skipped-fresh" | "skipped-done" | "failed" | "dropped";
  /** The phase a failure happened in (`fetch`, `timeout`, `store`, `serialize`, `options`). */
  phase?: string;
  error?: unknown;
}

/** How a refresh is run: what it refreshes, where, and what delivered it. */
export interface RefreshRun {
  message: RefreshMessage;
  origin: Exclude<RefreshOrigin, "read">;
  /** The span of the delivery that carried it with others (a batch), to link to. */
  delivery?: SpanRef;
  /** Why the queue was not used (`origin: "fallback"`). */
  fallback?: string;
}

/**
 * What the core calls when OpenTelemetry is on (the implementation loads on demand, with
 * `@opentelemetry/api`). An instance without it has `undefined` instead, and its reads pay one check.
 */
export interface Telemetry {
  /**
   * One read: `run` is the read itself, handed the read's span (to carry in what it queues), and its
   * result is always the whole outcome; the caller gets the value alone with `valueOnly`.
   */
  read(key: unknown, valueOnly: boolean, run: (span: SpanRef) => Promise<ReadOutcome>): Promise<unknown>;
  /** The trace context a refresh carries: the read's span, or the active span when the read has none. */
  carrier(span?: SpanRef): TraceCarrier | undefined;
  /** One publish of a message that carries `refreshes`; `run` publishes and resolves to the message id. */
  publish(queue: string, refreshes: readonly { job: string; trace?: TraceCarrier }[], run: () => Promise<{ messageId: string }>): Promise<{ messageId: string }>;
  /** One delivery of several refreshes (a batch): `run` gets the delivery's span, for each refresh to link to. */
  delivery<T>(queue: string, messages: readonly RefreshMessage[], run: (span: SpanRef) => Promise<T>, failed: (result: T) => boolean): Promise<T>;
  /** One refresh run by the route or in this process; `record` tells what became of it. */
  refresh<T>(queue: string, how: RefreshRun, run: () => Promise<T>, record: (result: T) => RefreshRecord): Promise<T>;
  /** A job ran for `seconds` (a refresh's, or a read's synchronous fetch), and threw `error` if it did. */
  job(job: string, origin: RefreshOrigin, seconds: number, error?: unknown): void;
  /** A read's synchronous fetch ended (the route's and the fallback's refreshes are counted by `refresh`). */
  refreshed(job: string, record: RefreshRecord): void;
}

/** Which OpenTelemetry providers are registered. */
export interface Registered {
  tracing: boolean;
  metrics: boolean;
}

/** Where an instance keeps its telemetry (its core context). */
export interface TelemetryHost {
  tel: Telemetry | undefined;
}
