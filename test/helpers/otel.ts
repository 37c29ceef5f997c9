import { context, metrics, trace, type Attributes } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { vi } from "vitest";

/** A metric reader a test collects from when it wants (no timer, no exporter). */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** One data point of a metric: its attributes and its value (a number, or a histogram's count and sum). */
export interface Point {
  attributes: Attributes;
  value: number | { count: number; sum: number | undefined };
}

/** What {@link registerOtel} registered, and how a test reads what was recorded. */
export interface OtelHarness {
  exporter: InMemorySpanExporter;
  /** Finished spans, oldest first. */
  spans(): ReadableSpan[];
  /** Finished spans named `name`. */
  named(name: string): ReadableSpan[];
  /** The data points of one metric, by name (after collecting), with its unit. */
  metric(name: string): Promise<{ unit: string; points: Point[] } | undefined>;
  /** Unregisters everything (the API's globals) and shuts the providers down. */
  dispose(): Promise<void>;
}

/**
 * Registers an OpenTelemetry SDK as an app would: a tracer provider exporting to memory, a meter
 * provider read on demand, and the AsyncLocalStorage context manager (so an active span is seen).
 */
export function registerOtel(options: { tracing?: boolean; metrics?: boolean } = {}): OtelHarness {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  if (options.tracing !== false) trace.setGlobalTracerProvider(tracerProvider);
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  if (options.metrics !== false) metrics.setGlobalMeterProvider(meterProvider);
  return {
    exporter,
    spans: () => exporter.getFinishedSpans(),
    named: (name) => exporter.getFinishedSpans().filter((s) => s.name === name),
    async metric(name) {
      const { resourceMetrics } = await reader.collect();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const m of scope.metrics) {
          if (m.descriptor.name !== name) continue;
          const points = (m.dataPoints as DataPoint<number | Histogram>[]).map((p) => ({
            attributes: p.attributes,
            value: typeof p.value === "number" ? p.value : { count: p.value.count, sum: p.value.sum },
          }));
          return { unit: m.descriptor.unit, points };
        }
      }
      return undefined;
    },
    async dispose() {
      trace.disable();
      metrics.disable();
      context.disable();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** Waits until an instance has found the registered providers (it looks for them asynchronously). */
export async function telemetryOn(cb: { telemetry(): Promise<unknown> }): Promise<void> {
  await vi.waitFor(async () => {
    if (!(await cb.telemetry())) throw new Error("the instance's telemetry is still off");
  });
}

/** The value of the data point whose attributes include `match`, or 0. */
export function valueWhere(points: Point[] | undefined, match: Attributes): Point["value"] {
  const found = points?.find((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
  return found?.value ?? 0;
}
