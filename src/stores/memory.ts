import { readHeader, replaceHeader, staleHeader, toStoredEntry, type StoredEntry } from "../entry.js";
import { applyStampChange, encodeStamp, parseStamp, type StampChange, type TagStamp } from "../tags/stamps.js";
import type { CacheStore, ClockRequest, RefreshStart, TaggedRead } from "./types.js";

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The clock, in milliseconds. Tests pass a controlled one.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Most keys kept; past it the least recently used are dropped.
   * @default 10000
   */
  maxEntries?: number;
}

interface Slot {
  value: string;
  expiresAt: number;
}

/**
 * An in-process store: the embedded default, and the store of unit tests. One per process, so each
 * serverless instance has its own; use the Upstash store in production.
 */
export class MemoryStore implements CacheStore {
  readonly name = "memory";
  readonly #slots = new Map<string, Slot>();
  readonly #now: () => number;
  readonly #maxEntries: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** Number of live keys (entries and locks). */
  get size(): number {
    this.#sweep();
    return this.#slots.size;
  }

  #read(key: string): Slot | undefined {
    const slot = this.#slots.get(key);
    if (!slot) return undefined;
    if (slot.expiresAt <= this.#now()) {
      this.#slots.delete(key);
      return undefined;
    }
    // Keep recently used keys at the end of the map (least recently used first).
    this.#slots.delete(key);
    this.#slots.set(key, slot);
    return slot;
  }

  #write(key: string, value: string, ttlMs: number): void {
    this.#slots.delete(key);
    this.#slots.set(key, { value, expiresAt: this.#now() + ttlMs });
    if (this.#slots.size > this.#maxEntries) this.#sweep();
    while (this.#slots.size > this.#maxEntries) {
      const oldest = this.#slots.keys().next().value as string;
      this.#slots.delete(oldest);
    }
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, slot] of this.#slots) if (slot.expiresAt <= now) this.#slots.delete(key);
  }

  async get(key: string): Promise<StoredEntry> {
    return toStoredEntry(this.#read(key)?.value);
  }

  async getWithStamps(key: string, stampKeys: readonly string[]): Promise<TaggedRead> {
    return { entry: toStoredEntry(this.#read(key)?.value), stamps: this.#stamps(stampKeys) };
  }

  async getStamps(stampKeys: readonly string[]): Promise<(TagStamp | null)[]> {
    return this.#stamps(stampKeys);
  }

  async nextVersion(clock: ClockRequest, read?: { key: string; stampKeys: readonly string[] }): Promise<{ version: number } & TaggedRead> {
    const version = this.#tick(clock);
    return { version, entry: read ? toStoredEntry(this.#read(read.key)?.value) : null, stamps: read ? this.#stamps(read.stampKeys) : [] };
  }

  async stampTags(clock: ClockRequest, stampKeys: readonly string[], change: StampChange, ttlMs: number): Promise<number> {
    const version = this.#tick(clock);
    for (const key of stampKeys) this.#write(key, encodeStamp(applyStampChange(parseStamp(this.#read(key)?.value), change, version)), ttlMs);
    return version;
  }

  async startRefresh(read: { key: string; stampKeys: readonly string[]; doneKey: string }, clock?: ClockRequest): Promise<RefreshStart> {
    return {
      version: clock ? this.#tick(clock) : undefined,
      entry: toStoredEntry(this.#read(read.key)?.value),
      stamps: this.#stamps(read.stampKeys),
      done: this.#read(read.doneKey) !== undefined,
    };
  }

  async finishRefresh(
    write: { key: string; entry: string; version: number; ttlMs: number },
    done: { key: string; ttlMs: number },
    lock: { key: string; token: string },
  ): Promise<boolean> {
    const wrote = await this.setIfNotNewer(write.key, write.entry, write.version, write.ttlMs);
    this.#write(done.key, "1", done.ttlMs);
    await this.releaseLock(lock.key, lock.token);
    return wrote;
  }

  #stamps(keys: readonly string[]): (TagStamp | null)[] {
    return keys.map((key) => parseStamp(this.#read(key)?.value));
  }

  #tick(clock: ClockRequest): number {
    const version = Math.max(Number(this.#read(clock.key)?.value ?? 0) + 1, Math.trunc(clock.floor));
    this.#write(clock.key, String(version), clock.ttlMs);
    return version;
  }

  async set(key: string, entry: string, ttlMs: number): Promise<void> {
    this.#write(key, entry, ttlMs);
  }

  async setIfNotNewer(key: string, entry: string, version: number, ttlMs: number): Promise<boolean> {
    const current = this.#read(key);
    const header = current && readHeader(current.value);
    if (header && header.version > version) return false;
    this.#write(key, entry, ttlMs);
    return true;
  }

  async markStale(key: string, version: number): Promise<boolean> {
    const current = this.#read(key);
    const updated = current && replaceHeader(current.value, (header) => staleHeader(header, version));
    if (!current || updated === undefined) return false;
    current.value = updated;
    return true;
  }

  async delete(...keys: string[]): Promise<void> {
    for (const key of keys) this.#slots.delete(key);
  }

  async acquireLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    if (this.#read(key)) return false;
    this.#write(key, token, ttlMs);
    return true;
  }

  async forceLock(key: string, token: string, ttlMs: number): Promise<void> {
    this.#write(key, token, ttlMs);
  }

  /** The raw string under `key` (an entry's text or a lock's token), for tests and tools. */
  raw(key: string): string | undefined {
    return this.#read(key)?.value;
  }

  async releaseLock(key: string, token: string): Promise<boolean> {
    if (this.#read(key)?.value !== token) return false;
    this.#slots.delete(key);
    return true;
  }
}
