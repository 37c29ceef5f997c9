import { EventHub } from "../events.js";
import type { RefreshQueue } from "../queues/types.js";
import type { CacheStore } from "../stores/types.js";
import type { Telemetry } from "../telemetry/types.js";
import { MemoryTier } from "./memory-tier.js";
import { formatEvent, Reporter } from "./report.js";
import type { CoreSettings } from "./settings.js";

/** What the core is made of: a store, a queue and resolved settings. */
export interface CoreParts {
  store: CacheStore;
  queue: RefreshQueue;
  settings: CoreSettings;
}

/** The state the small modules of the core share (bentocache's context object, in spirit). */
export interface CoreContext extends CoreParts {
  events: EventHub;
  report: Reporter;
  /** Shorthand for `settings.now`. */
  now: () => number;
  /** This process's copies of fresh entries (used by reads whose `memory` option is on). */
  memory: MemoryTier;
  /** OpenTelemetry, once a provider is found; `undefined` while it is off (the hit path checks this alone). */
  tel: Telemetry | undefined;
  /**
   * Set while telemetry is switching on for providers registered before the instance was made: reads
   * wait for it (the first few ms of the instance), so that its first reads are traced too.
   */
  telReady: Promise<void> | undefined;
}

/** Builds the shared context of one instance. */
export function createContext(parts: CoreParts): CoreContext {
  const events = new EventHub(parts.settings.debug ? (e) => console.debug(`[next-cacheback] ${formatEvent(e)}`) : undefined);
  const ctx: CoreContext = { ...parts, events, report: new Reporter(events), now: parts.settings.now, memory: new MemoryTier(), tel: undefined, telReady: undefined };
  // OpenTelemetry is looked for off the caller's path, with the API loaded on demand (telemetry/start.ts).
  const { telemetry, now } = parts.settings;
  if (telemetry !== false) {
    const started = import("../telemetry/start.js").then((m) => m.start(ctx, telemetry, now), () => undefined);
    // The API's global (one for every copy of it) already holds a provider: reads wait for the switch.
    const api = (globalThis as Record<symbol, { trace?: unknown; metrics?: unknown } | undefined>)[Symbol.for("opentelemetry.js.api.1")];
    if (api?.trace || api?.metrics) ctx.telReady = started.then(() => void (ctx.telReady = undefined));
  }
  return ctx;
}
