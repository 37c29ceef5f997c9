import type { ClockRequest } from "../stores/types.js";
import type { StampChange } from "../tags/stamps.js";
import type { StoredHandlerEntry } from "./format.js";
import type { ReadState } from "./judge.js";
import type { HandlerKeys } from "./keys.js";

/** One `get`: the entry, the stamps of its tags and of the soft tags, and the lock when it is stale. */
export interface ReadRequest {
  keys: HandlerKeys;
  /** The version clock: read (Redis) or advanced (memory); see {@link ReadResult.version}. */
  clock: ClockRequest;
  /** `<prefix>tag:`: a tag's stamp is under `tagPrefix + tag`. */
  tagPrefix: string;
  /** The soft tags (Next.js's implicit tags of the page), stored form. */
  softTags: readonly string[];
  nowMs: number;
  /** 0, or 300 under `next dev`, where Next.js keeps entries at least 5 minutes. */
  minExpireS: number;
  /** Taken (`SET NX PX`) only when the entry is stale. */
  lock: { token: string; ttlMs: number };
}

/** What one `get` found, in one round trip. */
export interface ReadResult {
  state: ReadState;
  /** The tag (or soft tag) that made the entry tag-expired or stale. */
  tag?: string;
  /** The entry, for `fresh` and `stale`. */
  entry: StoredHandlerEntry | null;
  /** Whether this read took the regeneration lock (a `stale` entry only). */
  locked: boolean;
  /**
   * A version on the shared clock that every stamp written before this read is at most, and every stamp
   * written after it exceeds: an entry whose data is computed after this read may carry it.
   */
  version: number;
}

/** One `set`. */
export interface WriteRequest {
  keys: HandlerKeys;
  /** The clock, read when `version` is not given. */
  clock: ClockRequest;
  /** The entry without its version (stored tags, the value's bytes). */
  entry: Omit<StoredHandlerEntry, "version">;
  /** The version remembered from the `get` that preceded the regeneration, if any. */
  version: number | undefined;
  /** Without `version`: the version is the clock's, but at most this (the entry's start on the local clock). */
  capVersion: number;
  ttlMs: number;
  /** The regeneration lock this instance holds for the key, released by the write. */
  lockToken: string | undefined;
  /** Remove the entry instead (a negative `expire`). */
  evict: boolean;
}

/** What a write did: `written` is false when a newer entry was stored already, or for an eviction. */
export interface WriteResult {
  written: boolean;
  version: number;
}

/** One stamp to apply. */
export interface StampRequest {
  key: string;
  change: StampChange;
}

/**
 * Where a cache handler keeps its entries, and the shared stamps, clock and locks: each method is one
 * round trip (Redis: one script). The Upstash store and the memory store decide alike.
 */
export interface HandlerStore {
  readonly name: string;
  read(request: ReadRequest): Promise<ReadResult>;
  write(request: WriteRequest): Promise<WriteResult>;
  /** Applies every change at one new version of the clock; returns it. Stamps live `ttlMs`. */
  stamp(clock: ClockRequest, stamps: readonly StampRequest[], ttlMs: number): Promise<number>;
}
