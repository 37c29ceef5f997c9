import type { StoredEntry } from "../entry.js";

/**
 * What next-cacheback needs from a store. Each method is one atomic step. Entries are the envelope
 * strings of `encodeEnvelope`; the exported helpers (`toStoredEntry`, `readHeader`, `replaceHeader`,
 * `staleHeader`) do the envelope work a store needs. Every store passes the conformance suite of
 * `next-cacheback/testing`.
 */
export interface CacheStore {
  /** A short name for logs ("upstash", "memory"). */
  readonly name: string;
  /** The entry under `key` (see {@link StoredEntry}): `toStoredEntry(whatYouRead)`. */
  get(key: string): Promise<StoredEntry>;
  /** Writes the entry unconditionally; it expires after `ttlMs`. */
  set(key: string, entry: string, ttlMs: number): Promise<void>;
  /**
   * Writes the entry unless the stored one has a newer `version` (compare-and-set). An unreadable stored
   * value counts as older. Returns whether it wrote.
   */
  setIfNotNewer(key: string, entry: string, version: number, ttlMs: number): Promise<boolean>;
  /**
   * Marks the stored entry stale (`freshUntil` 0), raises its `version` to at least `version`, keeps its
   * value and expiry (`staleHeader` is the rewrite). Returns false when there is no readable entry.
   */
  markStale(key: string, version: number): Promise<boolean>;
  /** Removes keys; absent ones are ignored. */
  delete(...keys: string[]): Promise<void>;
  /** `SET key token NX PX ttlMs`: true when this caller now holds the lock. */
  acquireLock(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Takes the lock whoever holds it (used by `invalidate`, which must always queue). */
  forceLock(key: string, token: string, ttlMs: number): Promise<void>;
  /** Deletes the lock only when it still holds `token`. Returns whether it did. */
  releaseLock(key: string, token: string): Promise<boolean>;
}
