import type * as Api from "@opentelemetry/api";
import type { TraceCarrier } from "../message.js";

// A refresh message carries its read's trace context as W3C Trace Context fields, written and read here
// rather than by the globally registered propagator: the message format says W3C whatever propagator
// the app set up for its HTTP headers (or none: BasicTracerProvider registers none).

const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})(-|$)/;

/** The trace context of `sc` as `traceparent` / `tracestate`; `undefined` for an invalid span context. */
export function toCarrier(api: typeof Api, sc: Api.SpanContext | undefined): TraceCarrier | undefined {
  if (!sc || !api.isSpanContextValid(sc)) return undefined;
  const carrier: TraceCarrier = { traceparent: `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, "0")}` };
  const state = sc.traceState?.serialize();
  if (state) carrier.tracestate = state;
  return carrier;
}

/**
 * The span context a carrier names (remote: from another process, as a delivered message is);
 * `undefined` when it names none (or an invalid one).
 */
export function fromCarrier(api: typeof Api, carrier: TraceCarrier | undefined, isRemote = true): Api.SpanContext | undefined {
  const m = carrier ? TRACEPARENT.exec(carrier.traceparent) : null;
  if (!m || m[1] === "ff" || (m[1] === "00" && carrier!.traceparent.length !== 55)) return undefined;
  const sc: Api.SpanContext = { traceId: m[2]!, spanId: m[3]!, traceFlags: parseInt(m[4]!, 16) & 1, isRemote };
  if (carrier!.tracestate) sc.traceState = api.createTraceState(carrier!.tracestate);
  return api.isSpanContextValid(sc) ? sc : undefined;
}
