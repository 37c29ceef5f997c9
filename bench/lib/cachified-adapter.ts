import { totalTtl, type Cache, type CacheEntry } from "@epic-web/cachified";
import type { Redis } from "@upstash/redis";

/**
 * cachified's documented Redis adapter (`cachified-redis-adapter`) is written for node-redis: it passes
 * `{ EXAT }` to `set` and `JSON.parse`s what `get` returns. @upstash/redis spells the option `exat` (it
 * drops `EXAT` silently, so entries never expire) and already parses JSON (so `JSON.parse` gets an object
 * and throws, and every read is a miss). This is the minimal adapter over the official client instead:
 * the same three methods, the same expiry (created time + ttl + swr).
 */
export function upstashCachifiedAdapter(redis: Redis): Cache {
  return {
    name: "upstash-redis",
    get: (key) => redis.get<CacheEntry>(key),
    async set(key, entry) {
      const ttl = totalTtl(entry?.metadata);
      const createdTime = entry?.metadata?.createdTime;
      if (ttl > 0 && ttl < Infinity && typeof createdTime === "number") {
        await redis.set(key, entry, { pxat: Math.ceil(createdTime + ttl) });
      } else {
        await redis.set(key, entry);
      }
    },
    async delete(key) {
      await redis.del(key);
    },
  };
}
