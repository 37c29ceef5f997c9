import { argsShapeProblem, checkJobName } from "./keys.js";
import type { ResolvedRefreshOptions } from "./options.js";
import { isEncodedTag, MAX_TAGS_PER_ENTRY } from "./tags/tags.js";

/** Body of the QStash message that asks the refresh route to regenerate one entry. */
export interface RefreshMessage {
  /** Format version. */
  v: 1;
  /** The job to run, by its registered name. */
  job: string;
  /** The arguments the job's fetcher is called with. */
  args: unknown[];
  /** Token of the refresh lock the publisher won; the route releases the lock with it. */
  lock: string;
  /** When the refresh was requested (ms since the epoch). */
  queuedAt: number;
  /** The options the entry is written with. */
  options: { lifetime: number; ttl: number; refreshTimeout: number };
  /**
   * The entry's tags (encoded), as the reader computed them. Absent in messages of earlier versions and
   * for entries without tags: the route then computes them from the job's options.
   */
  tags?: string[];
  /**
   * The trace context of the read that queued the refresh (W3C Trace Context), so that the refresh's
   * span is its child. Absent in messages of earlier versions, and when tracing is off; routes of
   * earlier versions ignore it.
   */
  trace?: TraceCarrier;
}

/** A W3C trace context, as the `traceparent` and `tracestate` HTTP headers carry it. */
export interface TraceCarrier {
  /** `00-<trace id, 32 hex>-<span id, 16 hex>-<flags, 2 hex>` */
  traceparent: string;
  /** Vendors' entries, `key=value,...`. */
  tracestate?: string;
}

/** A `traceparent` of any version: its first four fields (later versions may append more). */
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}(-|$)/;

/** Why a message's `trace` field is not a trace context; `undefined` when it is one. */
function traceProblem(trace: unknown): string | undefined {
  if (typeof trace !== "object" || trace === null || Array.isArray(trace)) return `"trace" must be an object`;
  const { traceparent, tracestate } = trace as Record<string, unknown>;
  if (typeof traceparent !== "string" || traceparent.length > 256 || !TRACEPARENT.test(traceparent)) return `"trace.traceparent" must be a W3C traceparent`;
  if (tracestate !== undefined && (typeof tracestate !== "string" || tracestate.length > 512)) return `"trace.tracestate" must be a string of at most 512 characters`;
  return undefined;
}

/** Body of a QStash message that carries several refreshes (one publish, one delivery, one signature). */
export interface RefreshBatch {
  /** Format version: 2 is a batch. */
  v: 2;
  /** The refreshes, each with its own lock token and compare-and-set. */
  refreshes: RefreshMessage[];
}

/** Most refreshes one batch carries. */
export const MAX_BATCH_ITEMS = 500 as const;

/** What a delivered body holds. */
export type Delivery =
  | { kind: "single"; message: RefreshMessage }
  | { kind: "batch"; items: ({ ok: true; message: RefreshMessage } | { ok: false; problem: string; job: string | undefined; lock: string | undefined })[] };

/**
 * Reads a delivered body (parsed JSON): one refresh (format 1, what earlier versions publish) or a batch
 * (format 2), whose items are checked one by one; or why the body is neither (then it can never succeed).
 */
export function parseDelivery(body: unknown): Delivery | { problem: string } {
  if (typeof body === "object" && body !== null && !Array.isArray(body) && (body as { v?: unknown }).v === 2) {
    const refreshes = (body as { refreshes?: unknown }).refreshes;
    if (!Array.isArray(refreshes) || refreshes.length === 0 || refreshes.length > MAX_BATCH_ITEMS) {
      return { problem: `"refreshes" must be a list of 1 to ${MAX_BATCH_ITEMS} refresh messages` };
    }
    return {
      kind: "batch",
      items: refreshes.map((item: unknown) => {
        const problem = refreshMessageProblem(item);
        if (!problem) return { ok: true as const, message: item as RefreshMessage };
        const { job, lock } = (typeof item === "object" && item !== null ? item : {}) as { job?: unknown; lock?: unknown };
        return { ok: false as const, problem, job: typeof job === "string" ? job : undefined, lock: typeof lock === "string" ? lock : undefined };
      }),
    };
  }
  const problem = refreshMessageProblem(body);
  return problem ? { problem } : { kind: "single", message: body as RefreshMessage };
}

/** Why a body is not a refresh message; `undefined` when it is one. */
export function refreshMessageProblem(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "the body must be a JSON object";
  const m = body as Record<string, unknown>;
  if (m.v !== 1) return `unsupported message format version ${JSON.stringify(m.v) ?? "undefined"} (expected 1, or 2 for a batch)`;
  try {
    checkJobName(m.job);
  } catch (error) {
    return `"job" is not a valid job name: ${(error as Error).message}`;
  }
  if (!Array.isArray(m.args)) return `"args" must be an array`;
  const shape = argsShapeProblem(m.args);
  if (shape) return `"args" cannot be used: ${shape}`;
  if (typeof m.lock !== "string" || m.lock.length === 0 || m.lock.length > 200) return `"lock" must be a non-empty string`;
  if (typeof m.queuedAt !== "number" || !Number.isSafeInteger(m.queuedAt) || m.queuedAt < 0) return `"queuedAt" must be a timestamp in ms`;
  const o = m.options;
  if (typeof o !== "object" || o === null || Array.isArray(o)) return `"options" must be an object`;
  for (const name of ["lifetime", "ttl", "refreshTimeout"] as const) {
    const v = (o as Record<string, unknown>)[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) return `"options.${name}" must be a non-negative number of seconds`;
  }
  if (m.tags !== undefined) {
    if (!Array.isArray(m.tags) || m.tags.length > MAX_TAGS_PER_ENTRY) return `"tags" must be a list of at most ${MAX_TAGS_PER_ENTRY} tags`;
    if (!m.tags.every(isEncodedTag)) return `"tags" holds something that is not a tag`;
  }
  return m.trace === undefined ? undefined : traceProblem(m.trace);
}

/** Builds the message for `job(...args)`. */
export function buildRefreshMessage(
  job: string,
  args: readonly unknown[],
  lock: string,
  queuedAt: number,
  options: ResolvedRefreshOptions,
  tags: readonly string[] = [],
  trace?: TraceCarrier,
): RefreshMessage {
  const message: RefreshMessage = {
    v: 1,
    job,
    args: [...args],
    lock,
    queuedAt,
    options: { lifetime: options.lifetime, ttl: options.ttl, refreshTimeout: options.refreshTimeout },
  };
  if (tags.length > 0) message.tags = [...tags];
  if (trace) message.trace = trace;
  return message;
}
