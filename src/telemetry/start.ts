import type * as Api from "@opentelemetry/api";
import type { Otel as OtelClass } from "./otel.js";
import type { Registered, TelemetryHost, TelemetryOptions } from "./types.js";

/**
 * When to look again for providers that were not registered when the instance was made, in ms after
 * the first look. After the last, the instance keeps what it found.
 */
const LOOK_AGAIN_MS = [1_000, 10_000];

/**
 * Whether a tracer provider and a meter provider are registered. The API's global tracer provider is
 * always a proxy: one is registered when the proxy has a delegate, i.e. its delegate is not the API's
 * no-op provider. There is no proxy for metrics: the global meter provider is the no-op one until one is
 * registered, and the no-op provider's meters are no-op meters.
 */
export function registered(api: typeof Api): Registered {
  const provider = api.trace.getTracerProvider() as Partial<Api.ProxyTracerProvider> & Api.TracerProvider;
  const delegate = typeof provider.getDelegate === "function" ? provider.getDelegate() : provider;
  const noopTracerProvider = new api.ProxyTracerProvider().getDelegate().constructor;
  const meter = api.metrics.getMeterProvider().getMeter("next-cacheback");
  return { tracing: !(delegate instanceof noopTracerProvider), metrics: !(meter instanceof api.createNoopMeter().constructor) };
}

/** `@opentelemetry/api`, or `undefined` when it cannot be loaded (it is an optional peer dependency). */
async function loadApi(): Promise<typeof Api | undefined> {
  try {
    const mod = (await import("@opentelemetry/api")) as typeof Api & { default?: typeof Api };
    return typeof mod.trace === "object" ? mod : mod.default;
  } catch {
    return undefined;
  }
}

/**
 * Turns telemetry on for an instance when OpenTelemetry is there: `@opentelemetry/api` loads, and a
 * tracer provider or a meter provider is registered. Called when the instance is made, off the caller's
 * path: the instance switches on a few ms later, once the API has loaded (when a provider was registered
 * already, its reads wait for that: see `createContext`). When a provider is missing, it looks again 1 s
 * and 10 s later, for apps that register theirs after start-up.
 */
export async function start(host: TelemetryHost, options: TelemetryOptions | undefined, now: () => number): Promise<void> {
  const api = await loadApi();
  if (!api) return;
  let Otel: typeof OtelClass;
  try {
    ({ Otel } = await import("./otel.js"));
  } catch {
    return;
  }
  let looks = 0;
  let last: Registered = { tracing: false, metrics: false };
  const look = () => {
    const found = registered(api);
    if (found.tracing !== last.tracing || found.metrics !== last.metrics) {
      host.tel = found.tracing || found.metrics ? new Otel(api, found, options ?? {}, now) : undefined;
      last = found;
    }
    if ((found.tracing && found.metrics) || looks >= LOOK_AGAIN_MS.length) return;
    const previous = looks === 0 ? 0 : LOOK_AGAIN_MS[looks - 1]!;
    const timer = setTimeout(look, LOOK_AGAIN_MS[looks++]! - previous);
    (timer as { unref?: () => void }).unref?.();
  };
  look();
}
