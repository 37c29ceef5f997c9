/**
 * OpenTelemetry for the benchmarks (bench/profile/hit-micro.ts and hit-profile.ts, `--otel`): the SDK's
 * providers registered the way an app's instrumentation registers them, and whether an instance found them.
 */

/** Which providers to register. */
export type OtelWhat = "traces" | "metrics" | "both";

/**
 * Registers the SDK's providers: for traces, a BasicTracerProvider with a BatchSpanProcessor and an
 * exporter that drops what it gets (the network left out), and the AsyncLocalStorage context manager
 * (what NodeTracerProvider and @vercel/otel register); for metrics, a MeterProvider whose reader is never
 * collected. `exported()` flushes and tells how many spans reached the exporter.
 */
export async function registerOtel(what: OtelWhat): Promise<{ exported: () => Promise<number> }> {
  const api = await import("@opentelemetry/api");
  let exported = 0;
  let flush = async (): Promise<unknown> => undefined;
  if (what !== "metrics") {
    const { BasicTracerProvider, BatchSpanProcessor } = await import("@opentelemetry/sdk-trace-base");
    const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const exporter = {
      export: (spans: unknown[], done: (result: { code: number }) => void) => {
        exported += spans.length;
        done({ code: 0 });
      },
      shutdown: async () => undefined,
    };
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
    api.trace.setGlobalTracerProvider(provider);
    flush = () => provider.forceFlush();
  }
  if (what !== "traces") {
    const { MeterProvider, MetricReader } = await import("@opentelemetry/sdk-metrics");
    class Uncollected extends MetricReader {
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    }
    api.metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new Uncollected()] }));
  }
  return {
    exported: async () => {
      await flush();
      return exported;
    },
  };
}

/**
 * Whether an instance's telemetry is on, once it has looked for providers (asynchronously, when it is
 * made: a few ms once the API has loaded), waiting at most `waitMs` for it to switch on. A build without
 * telemetry has no `telemetry()`.
 */
export async function telemetryState(cb: object, waitMs: number): Promise<"on" | "off" | "no telemetry in this build"> {
  const probe = (cb as { telemetry?: () => Promise<unknown> }).telemetry;
  if (typeof probe !== "function") return "no telemetry in this build";
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && (await probe.call(cb)) === undefined) await new Promise((r) => setTimeout(r, 10));
  return (await probe.call(cb)) === undefined ? "off" : "on";
}

/** Whether `@opentelemetry/api` can be loaded here (not under bench/otel/hide-api.mjs). */
export async function apiLoadable(): Promise<boolean> {
  try {
    await import("@opentelemetry/api");
    return true;
  } catch {
    return false;
  }
}
