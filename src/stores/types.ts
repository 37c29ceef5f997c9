import type { StoredEntry } from "../entry.js";
import type { StampChange, TagStamp } from "../tags/stamps.js";

/** The shared version clock, as a store is asked to advance it. */
export interface ClockRequest {
  /** The key the clock lives under. */
  key: string;
  /** The caller's own version: the version taken is at least this (so it stays close to real time). */
  floor: number;
  /** How long the clock key lives after this use, in ms. */
  ttlMs: number;
}

/** An entry and the stamps of its tags, as one round trip reads them. */
export interface TaggedRead {
  entry: StoredEntry;
  /** `stamps[i]` belongs to the i-th stamp key asked for; `null` where the tag was never invalidated. */
  stamps: (TagStamp | null)[];
}

/** What {@link CacheStore.startRefresh} reads. */
export interface RefreshStart extends TaggedRead {
  /** A refresh with this lock token already completed: a redelivery, which must not run the job again. */
  done: boolean;
  /** The version from the shared clock, when one was asked for. */
  version: number | undefined;
}

/**
 * What next-cacheback needs from a store. Each method is one atomic step in one round trip. Entries are
 * the envelope strings of `encodeEnvelope`; the exported helpers (`toStoredEntry`, `readHeader`,
 * `replaceHeader`, `staleHeader`, `parseStamp`, `applyStampChange`) do the envelope and stamp work a
 * store needs. Every store passes the conformance suite of `next-cacheback/testing`.
 */
export interface CacheStore {
  /** A short name for logs ("upstash", "memory"). */
  readonly name: string;
  /** The entry under `key` (see {@link StoredEntry}): `toStoredEntry(whatYouRead)`. */
  get(key: string): Promise<StoredEntry>;
  /**
   * Optional: what `get` reads, before `toStoredEntry` (for `@upstash/redis`, the value its automatic
   * deserialization made). Reads use it when it is there and decode the value themselves, which saves a
   * promise per read; `toStoredEntry(await store.getRaw(key))` must equal `await store.get(key)` (the
   * conformance suite checks it).
   */
  getRaw?(key: string): Promise<unknown>;
  /** The entry under `key` and the stamps under `stampKeys`, read together (Redis: one `MGET`). */
  getWithStamps(key: string, stampKeys: readonly string[]): Promise<TaggedRead>;
  /** The stamps under `stampKeys` (`null` where there is none). */
  getStamps(stampKeys: readonly string[]): Promise<(TagStamp | null)[]>;
  /**
   * Takes the next version of the shared clock: greater than every version the clock gave before, and at
   * least `clock.floor`. With `read`, also reads that entry and those stamps in the same round trip.
   */
  nextVersion(clock: ClockRequest, read?: { key: string; stampKeys: readonly string[] }): Promise<{ version: number } & TaggedRead>;
  /**
   * Takes the next version of the shared clock and applies `change` at that version to every stamp
   * (`applyStampChange`), each then living `ttlMs`. Returns the version. One round trip whatever the
   * number of stamps.
   */
  stampTags(clock: ClockRequest, stampKeys: readonly string[], change: StampChange, ttlMs: number): Promise<number>;
  /**
   * What a refresh reads before it runs, in one round trip: the entry, the stamps of its tags, whether a
   * refresh with this lock token already completed (`doneKey` exists), and, with `clock`, a version from
   * the shared clock (a tagged entry's).
   */
  startRefresh(read: { key: string; stampKeys: readonly string[]; doneKey: string }, clock?: ClockRequest): Promise<RefreshStart>;
  /**
   * A refresh's write, in one round trip: the entry unless a newer one is stored (as `setIfNotNewer`),
   * then, whatever happened to it, the completion mark `done.key` (living `done.ttlMs`) and the release
   * of the lock if it still holds `lock.token`. Returns whether the entry was written.
   */
  finishRefresh(
    write: { key: string; entry: string; version: number; ttlMs: number },
    done: { key: string; ttlMs: number },
    lock: { key: string; token: string },
  ): Promise<boolean>;
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
