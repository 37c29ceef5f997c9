import type { CacheStore, ClockRequest } from "../stores/types.js";
import type { StoredHandlerEntry } from "./format.js";
import { judgeEntry } from "./judge.js";
import type { HandlerStore, ReadRequest, ReadResult, StampRequest, WriteRequest, WriteResult } from "./store.js";

/** Bytes of entries kept, as Next.js's default handler keeps 50 MB. */
const DEFAULT_MAX_BYTES = 50 * 1024 * 1024;

interface Slot {
  entry: StoredHandlerEntry;
  expiresAt: number;
}

/**
 * The embedded handler store: entries in this process's memory (a least-recently-used map bounded in
 * bytes), and the stamps, the clock and the locks in a next-cacheback `CacheStore`, so that the handler
 * and next-cacheback share one tag namespace (the embedded default's `MemoryStore`, or one a test gives).
 */
export class MemoryHandlerStore implements HandlerStore {
  readonly name = "memory";
  readonly #shared: CacheStore;
  readonly #now: () => number;
  readonly #maxBytes: number;
  readonly #slots = new Map<string, Slot>();
  #bytes = 0;

  constructor(shared: CacheStore, now: () => number, maxBytes = DEFAULT_MAX_BYTES) {
    this.#shared = shared;
    this.#now = now;
    this.#maxBytes = maxBytes;
  }

  /** Bytes of the values kept. */
  get bytes(): number {
    return this.#bytes;
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    const { version } = await this.#shared.nextVersion(request.clock);
    const entry = this.#get(request.keys.entry);
    if (!entry) return { state: "absent", entry: null, locked: false, version };
    const tags = [...entry.tags, ...request.softTags];
    const stamps = await this.#shared.getStamps(tags.map((tag) => request.tagPrefix + tag));
    const verdict = judgeEntry(entry, tags, stamps, request.nowMs, request.minExpireS);
    if (verdict.state !== "fresh" && verdict.state !== "stale") return { ...verdict, entry: null, locked: false, version };
    const locked = verdict.state === "stale" && (await this.#shared.acquireLock(request.keys.lock, request.lock.token, request.lock.ttlMs));
    // A copy: whoever reads the stream gets bytes of its own.
    return { ...verdict, entry: { ...entry, tags: [...entry.tags], value: entry.value.slice() }, locked, version };
  }

  async write(request: WriteRequest): Promise<WriteResult> {
    let version = request.version;
    if (version === undefined) version = Math.min((await this.#shared.nextVersion(request.clock)).version, request.capVersion);
    if (request.lockToken) await this.#shared.releaseLock(request.keys.lock, request.lockToken);
    if (request.evict) {
      this.#delete(request.keys.entry);
      return { written: false, version };
    }
    const current = this.#get(request.keys.entry);
    if (current && current.version > version) return { written: false, version };
    this.#delete(request.keys.entry);
    const entry: StoredHandlerEntry = { ...request.entry, version, value: request.entry.value.slice() };
    this.#slots.set(request.keys.entry, { entry, expiresAt: this.#now() + request.ttlMs });
    this.#bytes += entry.value.byteLength;
    this.#evictOverflow();
    return { written: true, version };
  }

  async stamp(clock: ClockRequest, stamps: readonly StampRequest[], ttlMs: number): Promise<number> {
    // In memory there is no round trip to save: one stampTags per kind of change.
    const groups = new Map<string, { change: StampRequest["change"]; keys: string[] }>();
    for (const { key, change } of stamps) {
      const id = JSON.stringify(change);
      const group = groups.get(id) ?? { change, keys: [] };
      group.keys.push(key);
      groups.set(id, group);
    }
    let version = 0;
    for (const { change, keys } of groups.values()) version = await this.#shared.stampTags(clock, keys, change, ttlMs);
    return version;
  }

  #get(key: string): StoredHandlerEntry | undefined {
    const slot = this.#slots.get(key);
    if (!slot) return undefined;
    if (slot.expiresAt <= this.#now()) {
      this.#delete(key);
      return undefined;
    }
    // Most recently used last.
    this.#slots.delete(key);
    this.#slots.set(key, slot);
    return slot.entry;
  }

  #delete(key: string): void {
    const slot = this.#slots.get(key);
    if (!slot) return;
    this.#bytes -= slot.entry.value.byteLength;
    this.#slots.delete(key);
  }

  #evictOverflow(): void {
    if (this.#bytes <= this.#maxBytes) return;
    const now = this.#now();
    for (const [key, slot] of this.#slots) if (slot.expiresAt <= now) this.#delete(key);
    for (const key of this.#slots.keys()) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#delete(key);
    }
  }
}
