// OpenTelemetry for the example. Next.js calls register() once per server, before it serves a request.
//
// With CACHEBACK_OTEL_CONSOLE=1 it registers a tracer provider that prints every finished span to the
// console (Next.js's own spans and next-cacheback's: cacheback.read, cacheback.publish, cacheback.refresh,
// cacheback.delivery), and a meter provider that prints the metrics every 10 s (cacheback.reads,
// cacheback.refreshes, cacheback.job.duration...). Without it, nothing is registered, and next-cacheback
// stays untraced. To send them to a collector instead, see "OpenTelemetry" in README.md.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs" || !process.env.CACHEBACK_OTEL_CONSOLE) return;
  const { metrics } = await import("@opentelemetry/api");
  const { ConsoleSpanExporter, NodeTracerProvider, SimpleSpanProcessor } = await import("@opentelemetry/sdk-trace-node");
  const { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader } = await import("@opentelemetry/sdk-metrics");

  // register() also installs the AsyncLocalStorage context manager, so that a read's span is a child of
  // the page's, and the W3C propagator.
  new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] }).register();
  metrics.setGlobalMeterProvider(
    new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: 10_000 })] }),
  );
}
