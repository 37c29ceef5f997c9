export { cachebackFetch, cachebackFetchWithStatus, cacheback, createRefreshHandler, defineJob } from "./api.js";
export { Cacheback, createCacheback, type TagInvalidationOptions } from "./cacheback.js";
export type { TagInvalidation } from "./core/tag-verbs.js";
export type { WriteOptions } from "./core/verbs.js";
export type { StatusReason } from "./core/decide.js";
export type { CachebackCore } from "./core/core.js";
export type { CachebackResult, InvalidateResult, PeekResult, TypedFetch, TypedFetchWithStatus } from "./core/results.js";
export { setDefaultCacheback } from "./setup/default-instance.js";
export type { CachebackConfig, InstanceDefaults } from "./config.js";
export type { FetchOptions, RefreshOptions, ResolvedRefreshOptions } from "./options.js";
export { DEFAULT_REFRESH_OPTIONS, resolveRefreshOptions } from "./options.js";
export type { Job, JobOptions, AnyJob } from "./job.js";
export type { RefreshHandlerOptions } from "./route/handler.js";
export type { CacheKey } from "./keys.js";
export type { CacheStatus, CachebackEvent, CachebackEvents, CachebackEventType } from "./events.js";
export type { Serializer } from "./serializer.js";
export { jsonSerializer } from "./serializer.js";
export type { StandardSchema, ArgsValidator } from "./schema.js";
export type { Awaitable, EmptyOf, ReadOptions, ReadValue } from "./types.js";
export type { CacheStore, ClockRequest, TaggedRead } from "./stores/types.js";
export { encodeTag, MAX_TAG_LENGTH, MAX_TAGS_PER_ENTRY, type TagsOption } from "./tags/tags.js";
export { applyStampChange, encodeStamp, parseStamp, tagVerdict, type StampChange, type TagStamp, type TagVerdict } from "./tags/stamps.js";
export { MemoryStore, type MemoryStoreOptions } from "./stores/memory.js";
export { UpstashStore } from "./stores/upstash.js";
export type { PublishOptions, RefreshQueue, SigningKeys } from "./queues/types.js";
export { QStashQueue, type QStashQueueOptions } from "./queues/qstash.js";
export { LocalQueue, type LocalQueueOptions } from "./queues/local.js";
export type { RefreshMessage } from "./message.js";
export {
  decodeEnvelope,
  encodeEnvelope,
  entryAgeSeconds,
  entryState,
  readHeader,
  replaceHeader,
  staleHeader,
  toStoredEntry,
  type Envelope,
  type EnvelopeHeader,
  type EntryState,
  type StoredEntry,
} from "./entry.js";
export {
  CachebackError,
  CachebackConfigError,
  CachebackKeyError,
  CachebackOptionsError,
  CachebackSerializationError,
  CachebackStoreError,
  CachebackTimeoutError,
  describeError,
} from "./errors.js";
