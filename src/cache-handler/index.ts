/**
 * `next-cacheback/cache-handler`: a Next.js cache handler for `'use cache: remote'` on Upstash Redis,
 * sharing next-cacheback's tags. Its default export is the handler Next.js loads:
 *
 * ```js
 * // next.config.mjs
 * import { fileURLToPath } from "node:url";
 * export default {
 *   cacheComponents: true,
 *   cacheHandlers: { remote: fileURLToPath(import.meta.resolve("next-cacheback/cache-handler")) },
 * };
 * ```
 */
import { cacheHandler } from "./default-handler.js";

export { createCacheHandler } from "./handler.js";
export type { CacheEntry, CacheHandler, CacheHandlerEvent, CacheHandlerOptions, MissReason } from "./types.js";

export default cacheHandler;
