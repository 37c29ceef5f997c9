import type { Envelope } from "../entry.js";
import { CachebackOptionsError } from "../errors.js";
import type { StatusReason } from "./decide.js";

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

/** A copy of an entry as Redis held it when it was read. */
export interface Copy {
  entry: Envelope;
  /** The tags the entry was read with and written with: a tag invalidation here drops the copy. */
  tags: readonly string[];
  /** Until when the copy may serve (ms): `lifetime` after it was taken. */
  until: number;
  /** Set when the entry was stale in Redis (by a tag, say): the copy is served stale, never fresh. */
  stale?: { reason: StatusReason; tag?: string };
  /** A refresh was asked for by a read of this copy (or the read that took it): later reads need not ask. */
  asked?: boolean;
}

/**
 * This process's copies of entries, one LRU per job: each is the entry as Redis held it when it was read,
 * fresh or stale, and serves reads for its `lifetime`, in that state or a later one (a fresh copy past its
 * lifetime is served stale), never in an earlier one: a copy never makes an entry look fresher than Redis
 * said it was. Own writes and invalidations drop the copies they concern at once; concurrent reads of an
 * entry that has no copy share one read of Redis.
 */
export class MemoryTier {
  readonly #jobs = new Map<string, Map<string, Copy>>();
  readonly #reading = new Map<string, Promise<unknown>>();

  /** The copy of `key`, when one may serve at `now`. */
  get(job: string, key: string, now: number): Copy | undefined {
    const copies = this.#jobs.get(job);
    const copy = copies?.get(key);
    if (!copies || !copy) return undefined;
    if (now >= copy.until) {
      copies.delete(key);
      return undefined;
    }
    copies.delete(key); // most recently used last
    copies.set(key, copy);
    return copy;
  }

  /** Keeps a copy of an entry just read at `now` (`stale`: how Redis's entry was stale). */
  remember(
    job: string,
    key: string,
    entry: Envelope,
    readerTags: readonly string[],
    now: number,
    settings: MemorySettings,
    stale?: { reason: StatusReason; tag?: string },
  ): void {
    let copies = this.#jobs.get(job);
    if (!copies) this.#jobs.set(job, (copies = new Map()));
    copies.delete(key);
    const tags = entry.tags ? [...new Set([...readerTags, ...entry.tags])] : readerTags;
    copies.set(key, stale ? { entry, tags, until: now + settings.lifetimeMs, stale, asked: true } : { entry, tags, until: now + settings.lifetimeMs });
    while (copies.size > settings.maxEntries) copies.delete(copies.keys().next().value as string);
  }

  /** One read of Redis for `id` shared by every concurrent reader that found no copy. */
  coalesce<T>(id: string, read: () => Promise<T>): Promise<T> {
    const running = this.#reading.get(id) as Promise<T> | undefined;
    if (running) return running;
    const started = read();
    this.#reading.set(id, started);
    const done = () => this.#reading.delete(id);
    started.then(done, done);
    return started;
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
