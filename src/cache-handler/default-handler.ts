import { handlerSetupFromEnv } from "../setup/env.js";
import { createCacheHandler } from "./handler.js";
import type { CacheEntry, CacheHandler } from "./types.js";

const SLOT = Symbol.for("next-cacheback.cache-handler");
type Slot = { handler?: CacheHandler };

/**
 * The handler made from the environment, on first use (not when the module loads: `next build` loads it,
 * often without credentials), one per process on `globalThis` however many times the module is loaded.
 * On the embedded default it shares the default instance's memory store, and says so once.
 */
function defaultHandler(): CacheHandler {
  const g = globalThis as unknown as Record<symbol, Slot | undefined>;
  const slot = (g[SLOT] ??= {});
  if (slot.handler) return slot.handler;
  const setup = handlerSetupFromEnv();
  slot.handler = createCacheHandler({ redis: setup.redis, store: setup.store, prefix: setup.prefix });
  if (setup.notice) (setup.warn ? console.warn : console.info)(setup.notice);
  return slot.handler;
}

/**
 * The object Next.js loads as the default export of `next-cacheback/cache-handler`: it forwards each call to
 * the handler made from the environment (`UPSTASH_REDIS_REST_URL` / `UPSTASH_REDIS_REST_TOKEN` or
 * `KV_REST_API_URL` / `KV_REST_API_TOKEN`, `CACHEBACK_PREFIX`, `CACHEBACK_READ_TIMEOUT`).
 */
export const cacheHandler: CacheHandler = {
  async get(cacheKey: string, softTags: string[]): Promise<CacheEntry | undefined> {
    try {
      return await defaultHandler().get(cacheKey, softTags);
    } catch (error) {
      console.error("[next-cacheback] cache handler: could not be set up from the environment", error);
      return undefined;
    }
  },
  async set(cacheKey: string, pendingEntry: Promise<CacheEntry>): Promise<void> {
    try {
      await defaultHandler().set(cacheKey, pendingEntry);
    } catch (error) {
      console.error("[next-cacheback] cache handler: could not be set up from the environment", error);
    }
  },
  async refreshTags(): Promise<void> {},
  async getExpiration(): Promise<number> {
    return Infinity;
  },
  updateTags(tags: string[], durations?: { expire?: number }): Promise<void> {
    return defaultHandler().updateTags(tags, durations);
  },
};
