import type { Envelope } from "../entry.js";
import { CachebackOptionsError } from "../errors.js";

/** The memory tier of a read, resolved: how long a copy serves, and how many copies a job keeps. */
export interface MemorySettings {
  lifetimeMs: number;
  maxEntries: number;
}

/**
 * The `memory` option: keep a copy of fresh entries in this process for `lifetime` seconds, so reads of
 * them cost no Redis command. Other instances' writes and invalidations reach this process within
 * `lifetime` at most; this process's own take effect at once.
 */
export interface MemoryOption {
  /**
   * Seconds a copy serves reads after it was read from Redis (or written here). The bound on how late
   * this process sees another instance's write or invalidation.
   */
  lifetime: number;
  /**
   * Most copies kept per job; past it the least recently used are dropped.
   * @default 1000
   */
  maxEntries?: number;
}

/** Checks a `memory` option; `undefined` when the tier is off. */
export function resolveMemory(option: MemoryOption | false | undefined): MemorySettings | undefined {
  if (option === undefined || option === false) return undefined;
  const { lifetime, maxEntries = 1000 } = option;
  if (typeof lifetime !== "number" || !Number.isFinite(lifetime) || lifetime <= 0) {
    throw new CachebackOptionsError(`memory.lifetime must be a positive number of seconds, got ${String(lifetime)}`);
  }
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new CachebackOptionsError(`memory.maxEntries must be a positive whole number, got ${String(maxEntries)}`);
  }
  return { lifetimeMs: lifetime * 1000, maxEntries };
}

interface Copy {
  entry: Envelope;
  /** The tags the entry was read with and written with: a tag invalidation here drops the copy. */
  tags: readonly string[];
  /** Until when the copy may serve (ms): `lifetime` after it was taken. */
  until: number;
}

/**
 * This process's copies of fresh entries, one LRU per job. A copy serves a read only while it is young
 * (its `lifetime`) and its entry is still fresh by its own timestamps; anything else goes to Redis. Own
 * writes and invalidations drop the copies they concern at once.
 */
export class MemoryTier {
  readonly #jobs = new Map<string, Map<string, Copy>>();

  /** The copy of `key`, when one may serve at `now`. */
  get(job: string, key: string, now: number): Envelope | undefined {
    const copies = this.#jobs.get(job);
    const copy = copies?.get(key);
    if (!copies || !copy) return undefined;
    if (now >= copy.until || now >= copy.entry.freshUntil) {
      copies.delete(key);
      return undefined;
    }
    copies.delete(key); // most recently used last
    copies.set(key, copy);
    return copy.entry;
  }

  /** Keeps a copy of a fresh entry just read (or written) at `now`. */
  remember(job: string, key: string, entry: Envelope, readerTags: readonly string[], now: number, settings: MemorySettings): void {
    let copies = this.#jobs.get(job);
    if (!copies) this.#jobs.set(job, (copies = new Map()));
    copies.delete(key);
    const tags = entry.tags ? [...new Set([...readerTags, ...entry.tags])] : readerTags;
    copies.set(key, { entry, tags, until: now + settings.lifetimeMs });
    while (copies.size > settings.maxEntries) copies.delete(copies.keys().next().value as string);
  }

  /** Drops the copy of `key` (this process wrote, deleted or invalidated it). */
  forget(key: string): void {
    for (const copies of this.#jobs.values()) copies.delete(key);
  }

  /** Drops the copies of entries carrying any of `tags` (this process invalidated them). */
  forgetTagged(tags: readonly string[]): void {
    for (const copies of this.#jobs.values()) {
      for (const [key, copy] of copies) if (copy.tags.some((tag) => tags.includes(tag))) copies.delete(key);
    }
  }

  /** How many copies are kept, all jobs together. */
  get size(): number {
    let n = 0;
    for (const copies of this.#jobs.values()) n += copies.size;
    return n;
  }
}
