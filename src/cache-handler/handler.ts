import { CachebackStoreError } from "../errors.js";
import { pendingFor } from "../next/pending.js";
import type { ClockRequest } from "../stores/types.js";
import type { StampChange } from "../tags/stamps.js";
import { withTimeout } from "../timeout.js";
import { presentEntry } from "./judge.js";
import { handlerKeys, sharedKeys, storedTag } from "./keys.js";
import { resolveHandlerOptions, type HandlerSettings } from "./options.js";
import { HandlerReporter } from "./report.js";
import type { StampRequest } from "./store.js";
import { readAll } from "../read-all.js";
import { discard } from "./stream.js";
import type { CacheEntry, CacheHandler, CacheHandlerOptions } from "./types.js";
import { RememberedVersions } from "./versions.js";

/** The change `updateTags` makes to one tag's stamp, or `undefined` when next-cacheback made it already. */
function changeFor(tag: string, durations: { expire?: number } | undefined, nowMs: number): StampChange | undefined {
  const noted = pendingFor(tag);
  if (noted === "stale" || noted === "expire") return undefined; // next-cacheback wrote this very stamp
  if (noted === "pages") return { kind: "pages" }; // new data was written: only the pages regenerate
  if (!durations) return { kind: "expire" }; // updateTag, or the one-argument revalidateTag
  const expire = durations.expire;
  if (expire === undefined || !Number.isFinite(expire)) return { kind: "stale" };
  return { kind: "stale", expireAt: nowMs + Math.max(0, expire) * 1000 }; // revalidateTag(tag, profile)
}

/**
 * A Next.js cache handler on a handler store (Upstash Redis, or memory). See `createCacheHandler`.
 */
class RemoteCacheHandler implements CacheHandler {
  readonly #s: HandlerSettings;
  readonly #report: HandlerReporter;
  readonly #versions: RememberedVersions;
  /** `set`s in progress in this process, by cache key: a `get` of the same key waits for them. */
  readonly #pending = new Map<string, Promise<void>>();
  readonly #shared: { clock: string; tagPrefix: string };

  constructor(settings: HandlerSettings) {
    this.#s = settings;
    this.#report = new HandlerReporter(settings.onEvent, settings.debug);
    this.#versions = new RememberedVersions(settings.lockTtlMs);
    this.#shared = sharedKeys(settings.prefix);
  }

  #clock(): ClockRequest {
    return { key: this.#shared.clock, floor: this.#s.versions.next(), ttlMs: this.#s.maxTtlMs };
  }

  async get(cacheKey: string, softTags: string[]): Promise<CacheEntry | undefined> {
    let abandoned = false;
    try {
      return await withTimeout(this.#lookup(cacheKey, softTags ?? [], () => abandoned), this.#s.readTimeoutMs, "cache handler get");
    } catch (error) {
      abandoned = true;
      this.#report.failed({ type: "error", operation: "get", key: cacheKey, error });
      this.#report.emit({ type: "miss", key: cacheKey, reason: "store-error" });
      return undefined; // Next.js renders the entry afresh
    }
  }

  async #lookup(cacheKey: string, softTags: readonly string[], abandoned: () => boolean): Promise<CacheEntry | undefined> {
    const pending = this.#pending.get(cacheKey);
    if (pending) await pending;
    const s = this.#s;
    const nowMs = s.now();
    const token = crypto.randomUUID();
    const found = await s.store.read({
      keys: handlerKeys(s.prefix, cacheKey),
      clock: this.#clock(),
      tagPrefix: this.#shared.tagPrefix,
      softTags: softTags.map(storedTag),
      nowMs,
      minExpireS: s.minExpireS,
      lock: { token, ttlMs: s.lockTtlMs },
    });
    if (abandoned()) {
      // Answered late: Next.js renders afresh already. Keep the lock's token so that render's set frees it.
      if (found.locked) this.#versions.remember(cacheKey, undefined, token, s.now());
      return undefined;
    }
    this.#report.ok();
    const { state, entry, tag } = found;
    const served = (state === "fresh" || state === "stale") && entry !== null;
    // Only a read that tells Next.js to render the entry here (a miss, a won lock) gives its version to
    // the set that follows: a hit long before would make the new entry older than stamps it has seen.
    if (!served || found.locked) this.#versions.remember(cacheKey, found.version, found.locked ? token : undefined, nowMs);
    if (served) {
      if (this.#report.listening) {
        this.#report.emit(
          state === "fresh"
            ? { type: "hit", key: cacheKey }
            : { type: "stale", key: cacheKey, regenerate: found.locked, reason: tag === undefined ? "revalidate" : "tag", tag },
        );
      }
      return presentEntry(entry!, state, found.locked, nowMs);
    }
    if (this.#report.listening) this.#report.emit({ type: "miss", key: cacheKey, reason: state === "fresh" || state === "stale" ? "unreadable" : state, tag });
    return undefined;
  }

  async set(cacheKey: string, pendingEntry: Promise<CacheEntry>): Promise<void> {
    let settle!: () => void;
    const marker = new Promise<void>((resolve) => (settle = resolve));
    this.#pending.set(cacheKey, marker);
    try {
      let entry: CacheEntry;
      try {
        entry = await pendingEntry;
      } catch (error) {
        this.#report.emit({ type: "set-skipped", key: cacheKey, reason: "stream-error", error });
        return;
      }
      await this.#store(cacheKey, entry);
    } catch (error) {
      this.#report.failed({ type: "error", operation: "set", key: cacheKey, error });
    } finally {
      settle();
      if (this.#pending.get(cacheKey) === marker) this.#pending.delete(cacheKey);
    }
  }

  async #store(cacheKey: string, entry: CacheEntry): Promise<void> {
    const s = this.#s;
    const keys = handlerKeys(s.prefix, cacheKey);
    const remembered = this.#versions.take(cacheKey, s.now());
    if (entry.expire === 0 && !s.devServer) {
      // Dynamic: Next.js regenerates it on every read and never serves a stored copy (as its default handler).
      await discard(entry.value);
      this.#report.emit({ type: "set-skipped", key: cacheKey, reason: "dynamic" });
      return;
    }
    if (entry.expire < 0) {
      // Next.js's eviction sentinel: remove what is stored.
      await discard(entry.value);
      const evict = { timestamp: 0, revalidate: 0, expire: -1, stale: 0, tags: [], value: new Uint8Array(0) };
      await withTimeout(
        s.store.write({ keys, clock: this.#clock(), entry: evict, version: undefined, capVersion: 0, ttlMs: 1, lockToken: remembered.token, evict: true }),
        s.writeTimeoutMs,
        "cache handler set",
      );
      this.#report.ok();
      this.#report.emit({ type: "set-skipped", key: cacheKey, reason: "evicted" });
      return;
    }
    let read;
    try {
      read = await readAll(entry.value, s.maxEntrySize);
    } catch (error) {
      this.#report.emit({ type: "set-skipped", key: cacheKey, reason: "stream-error", error });
      return;
    }
    if ("tooLarge" in read) {
      this.#report.tooLarge(cacheKey, read.tooLarge, s.maxEntrySize);
      this.#report.emit({ type: "set-skipped", key: cacheKey, reason: "too-large", bytes: read.tooLarge });
      return;
    }
    const now = s.now();
    const ttlMs = Math.min(entry.timestamp + Math.max(entry.expire, s.minExpireS) * 1000 - now, s.maxTtlMs);
    if (!(ttlMs > 0)) {
      this.#report.emit({ type: "set-skipped", key: cacheKey, reason: "expired", bytes: read.bytes.byteLength });
      return;
    }
    const { timestamp, revalidate, expire, stale } = entry;
    const tags = [...new Set(entry.tags.map(storedTag))].filter((tag) => tag.length > 0); // an empty line ends the tags
    const written = await withTimeout(
      s.store.write({
        keys,
        clock: this.#clock(),
        entry: { timestamp, revalidate, expire, stale, tags, value: read.bytes },
        version: remembered.version,
        // No read before this regeneration here: the entry's own start, on this process's clock.
        capVersion: Math.trunc(timestamp) * 1000,
        ttlMs,
        lockToken: remembered.token,
        evict: false,
      }),
      s.writeTimeoutMs,
      "cache handler set",
    );
    this.#report.ok();
    this.#report.emit({ type: "set", key: cacheKey, bytes: read.bytes.byteLength, ...written });
  }

  /** Nothing to refresh: every `get` reads the stamps it needs in its own round trip. */
  async refreshTags(): Promise<void> {}

  /**
   * `Infinity`: the soft tags are checked in `get`, in the same round trip as the entry, against versions
   * of the shared clock (not against one process's wall clock), and a stale soft tag serves the entry
   * while one instance regenerates it.
   */
  async getExpiration(_tags: string[]): Promise<number> {
    return Infinity;
  }

  async updateTags(tags: string[], durations?: { expire?: number }): Promise<void> {
    const s = this.#s;
    const nowMs = s.now();
    const stamps: StampRequest[] = [];
    const stamped: string[] = [];
    const skipped: string[] = [];
    for (const tag of new Set(tags.map(storedTag))) {
      const change = changeFor(tag, durations, nowMs);
      if (!change) {
        skipped.push(tag);
        continue;
      }
      stamps.push({ key: this.#shared.tagPrefix + tag, change });
      stamped.push(tag);
    }
    if (stamps.length === 0) {
      this.#report.emit({ type: "tags-updated", tags: [], skipped, version: undefined });
      return;
    }
    let version: number;
    try {
      version = await withTimeout(s.store.stamp(this.#clock(), stamps, s.maxTtlMs), s.writeTimeoutMs, "cache handler updateTags");
    } catch (error) {
      this.#report.failed({ type: "error", operation: "updateTags", tags: stamped, error });
      throw new CachebackStoreError(`updateTags(${stamped.map((t) => JSON.stringify(t)).join(", ")})`, error);
    }
    this.#report.ok();
    this.#report.emit({ type: "tags-updated", tags: stamped, skipped, version });
  }
}

/**
 * A Next.js cache handler (for `'use cache: remote'`) on Upstash Redis, sharing next-cacheback's tags: a
 * `revalidateTag` of either reaches the entries of both, in every instance. Past `revalidate` an entry is
 * served, and only the instance that wins a shared lock regenerates it. `get` and `set` are one round trip
 * each; `getExpiration` answers `Infinity` (soft tags are checked in `get`).
 * @throws CachebackOptionsError when an option is out of range.
 */
export function createCacheHandler(options: CacheHandlerOptions = {}): CacheHandler {
  return new RemoteCacheHandler(resolveHandlerOptions(options));
}
