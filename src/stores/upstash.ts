import type { Redis } from "@upstash/redis";
import { toStoredEntry, type StoredEntry } from "../entry.js";
import { parseStamp, type StampChange, type TagStamp } from "../tags/stamps.js";
import type { CacheStore, ClockRequest, RefreshStart, TaggedRead } from "./types.js";
import { FINISH_REFRESH, MARK_STALE, NEXT_VERSION, RELEASE_LOCK, SET_IF_NOT_NEWER, STAMP_TAGS } from "./upstash-scripts.js";

/** A positive whole number of milliseconds, as Redis's `PX` wants it. */
const ms = (value: number): number => Math.max(1, Math.ceil(value));

/**
 * The production store: Upstash Redis through the official `@upstash/redis` client. A read is one `GET`
 * (one round trip); conditional writes are small Lua scripts (EVALSHA, falling back to EVAL once).
 */
export class UpstashStore implements CacheStore {
  readonly name = "upstash";
  readonly #redis: Redis;
  readonly #setIfNotNewer;
  readonly #markStale;
  readonly #releaseLock;
  readonly #nextVersion;
  readonly #stampTags;
  readonly #finishRefresh;

  constructor(redis: Redis) {
    this.#redis = redis;
    this.#setIfNotNewer = redis.createScript<number>(SET_IF_NOT_NEWER);
    this.#markStale = redis.createScript<number>(MARK_STALE);
    this.#releaseLock = redis.createScript<number>(RELEASE_LOCK);
    this.#nextVersion = redis.createScript<unknown[]>(NEXT_VERSION);
    this.#stampTags = redis.createScript<unknown>(STAMP_TAGS);
    this.#finishRefresh = redis.createScript<number>(FINISH_REFRESH);
  }

  /** The client this store talks through. */
  get redis(): Redis {
    return this.#redis;
  }

  get(key: string): Promise<StoredEntry> {
    return this.#redis.get<unknown>(key).then(toStoredEntry);
  }

  async getWithStamps(key: string, stampKeys: readonly string[]): Promise<TaggedRead> {
    const [entry, ...stamps] = await this.#redis.mget<unknown[]>(key, ...stampKeys);
    return { entry: toStoredEntry(entry), stamps: stamps.map(parseStamp) };
  }

  async getStamps(stampKeys: readonly string[]): Promise<(TagStamp | null)[]> {
    if (stampKeys.length === 0) return [];
    return (await this.#redis.mget<unknown[]>(...stampKeys)).map(parseStamp);
  }

  async nextVersion(clock: ClockRequest, read?: { key: string; stampKeys: readonly string[] }): Promise<{ version: number } & TaggedRead> {
    const keys = read ? [clock.key, read.key, ...read.stampKeys] : [clock.key];
    const [version, entry, ...stamps] = await this.#nextVersion.exec(keys, [String(Math.trunc(clock.floor)), String(ms(clock.ttlMs))]);
    return { version: Number(version), entry: read ? toStoredEntry(entry || null) : null, stamps: stamps.map((s) => parseStamp(s || null)) };
  }

  async stampTags(clock: ClockRequest, stampKeys: readonly string[], change: StampChange, ttlMs: number): Promise<number> {
    const expireAt = change.kind === "stale" && change.expireAt !== undefined ? String(Math.trunc(change.expireAt)) : "0";
    const version = await this.#stampTags.exec([clock.key, ...stampKeys], [String(Math.trunc(clock.floor)), String(ms(clock.ttlMs)), change.kind, expireAt, String(ms(ttlMs))]);
    return Number(version);
  }

  async startRefresh(read: { key: string; stampKeys: readonly string[]; doneKey: string }, clock?: ClockRequest): Promise<RefreshStart> {
    if (!clock) {
      const values = await this.#redis.mget<unknown[]>(read.key, ...read.stampKeys, read.doneKey);
      return { version: undefined, entry: toStoredEntry(values[0]), stamps: values.slice(1, -1).map(parseStamp), done: values.at(-1) != null };
    }
    const keys = [clock.key, read.key, ...read.stampKeys, read.doneKey];
    const [version, entry, ...rest] = await this.#nextVersion.exec(keys, [String(Math.trunc(clock.floor)), String(ms(clock.ttlMs))]);
    const done = rest.pop();
    return { version: Number(version), entry: toStoredEntry(entry || null), stamps: rest.map((s) => parseStamp(s || null)), done: Boolean(done) };
  }

  async finishRefresh(
    write: { key: string; entry: string; version: number; ttlMs: number },
    done: { key: string; ttlMs: number },
    lock: { key: string; token: string },
  ): Promise<boolean> {
    const wrote = await this.#finishRefresh.exec(
      [write.key, done.key, lock.key],
      [write.entry, String(Math.trunc(write.version)), String(ms(write.ttlMs)), String(ms(done.ttlMs)), lock.token],
    );
    return Number(wrote) === 1;
  }

  async set(key: string, entry: string, ttlMs: number): Promise<void> {
    await this.#redis.set(key, entry, { px: ms(ttlMs) });
  }

  async setIfNotNewer(key: string, entry: string, version: number, ttlMs: number): Promise<boolean> {
    const wrote = await this.#setIfNotNewer.exec([key], [entry, String(Math.trunc(version)), String(ms(ttlMs))]);
    return Number(wrote) === 1;
  }

  async markStale(key: string, version: number): Promise<boolean> {
    return Number(await this.#markStale.exec([key], [String(Math.trunc(version))])) === 1;
  }

  async delete(...keys: string[]): Promise<void> {
    if (keys.length > 0) await this.#redis.del(...keys);
  }

  async acquireLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    const ok = await this.#redis.set(key, token, { nx: true, px: ms(ttlMs) });
    return ok === "OK";
  }

  async forceLock(key: string, token: string, ttlMs: number): Promise<void> {
    await this.#redis.set(key, token, { px: ms(ttlMs) });
  }

  async releaseLock(key: string, token: string): Promise<boolean> {
    return Number(await this.#releaseLock.exec([key], [token])) === 1;
  }
}
