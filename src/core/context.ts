import { EventHub } from "../events.js";
import type { RefreshQueue } from "../queues/types.js";
import type { CacheStore } from "../stores/types.js";
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
}

/** Builds the shared context of one instance. */
export function createContext(parts: CoreParts): CoreContext {
  const events = new EventHub(parts.settings.debug ? (e) => console.debug(`[next-cacheback] ${formatEvent(e)}`) : undefined);
  return { ...parts, events, report: new Reporter(events), now: parts.settings.now, memory: new MemoryTier() };
}
