import { Cacheback } from "../cacheback.js";
import type { CachebackConfig } from "../config.js";
import { setupFromEnv } from "./env.js";

const SLOT = Symbol.for("next-cacheback.default-instance");
type Slot = { instance?: Cacheback };

// One default instance per process, even when a bundler loads this module more than once (Next.js
// bundles pages and route handlers separately): the embedded default's memory store and local queue
// must be shared by the page that queues a refresh and the route that runs it.
function slot(): Slot {
  const g = globalThis as unknown as Record<symbol, Slot | undefined>;
  return (g[SLOT] ??= {});
}

/** The default instance, made from the environment on first use and shared by the whole process. */
export function defaultCacheback(): Cacheback {
  const s = slot();
  if (s.instance) return s.instance;
  const setup = setupFromEnv();
  s.instance = new Cacheback(setup.config);
  if (setup.notice) (setup.warn ? console.warn : console.info)(setup.notice);
  return s.instance;
}

/**
 * Replaces the default instance the top-level functions use (`cachebackFetch`, `defineJob`,
 * `createRefreshHandler`...). Pass an instance or a config; pass nothing to go back to the environment.
 */
export function setDefaultCacheback(instanceOrConfig?: Cacheback | CachebackConfig): Cacheback | undefined {
  const s = slot();
  s.instance = instanceOrConfig === undefined ? undefined : instanceOrConfig instanceof Cacheback ? instanceOrConfig : new Cacheback(instanceOrConfig);
  return s.instance;
}
