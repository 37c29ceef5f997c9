export { cachebackFetch, cachebackFetchWithStatus, cacheback, createRefreshHandler, defineJob } from "./api.js";
export { Cacheback, createCacheback } from "./cacheback.js";
export type { CachebackResult, InvalidateResult, PeekResult, TypedFetch, TypedFetchWithStatus } from "./cacheback.js";
export { setDefaultCacheback } from "./default-instance.js";
export type { CachebackConfig, SigningKeys } from "./config.js";
export type { FetchOptions, RefreshOptions, ResolvedRefreshOptions } from "./options.js";
export { DEFAULT_REFRESH_OPTIONS, resolveRefreshOptions } from "./options.js";
export type { Job, JobOptions, AnyJob } from "./job.js";
export type { RefreshHandlerOptions } from "./route.js";
export type { CacheKey } from "./keys.js";
export type { CacheStatus, CachebackEvent, CachebackEvents, CachebackEventType } from "./events.js";
export type { Serializer } from "./serializer.js";
export { jsonSerializer } from "./serializer.js";
export type { StandardSchema, ArgsValidator } from "./schema.js";
export type { Awaitable, EmptyOf, ReadOptions, ReadValue } from "./types.js";
export type { CacheStore } from "./stores/types.js";
export { MemoryStore, type MemoryStoreOptions } from "./stores/memory.js";
export { UpstashStore } from "./stores/upstash.js";
export type { RefreshQueue } from "./queues/types.js";
export { QStashQueue, type QStashQueueOptions } from "./queues/qstash.js";
export { LocalQueue, type LocalQueueOptions } from "./queues/local.js";
export type { RefreshMessage } from "./message.js";
export { entryState, type EntryState } from "./entry.js";
export {
  CachebackError,
  CachebackConfigError,
  CachebackKeyError,
  CachebackOptionsError,
  CachebackSerializationError,
  CachebackTimeoutError,
} from "./errors.js";
