// Type-level checks of next-cacheback/cache-handler against Next.js's own contract (tsc only, not run).
import type { CacheHandler as NextCacheHandler, CacheEntry as NextCacheEntry } from "next/dist/server/lib/cache-handlers/types.js";
import cacheHandler, { createCacheHandler, type CacheEntry, type CacheHandler, type CacheHandlerEvent } from "../../src/cache-handler/index.js";

// The default export and a made handler are Next.js cache handlers, and entries flow both ways.
const asNext: NextCacheHandler = cacheHandler;
const made: NextCacheHandler = createCacheHandler({ prefix: "p:", readTimeout: 0.5, lockTimeout: 10, maxTtl: 3600, maxEntrySize: 1024 });
const fromNext = (entry: NextCacheEntry): CacheEntry => entry;
const toNext = (entry: CacheEntry): NextCacheEntry => entry;
const ours: CacheHandler = asNext;

// Events are a tagged union.
const onEvent = (event: CacheHandlerEvent): string => (event.type === "stale" ? String(event.regenerate) : event.type === "miss" ? event.reason : event.type);
createCacheHandler({ onEvent });

// @ts-expect-error: durations are numbers of seconds
createCacheHandler({ readTimeout: "1" });
