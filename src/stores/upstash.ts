import type { Redis } from "@upstash/redis";
import { toStoredEntry, type StoredEntry } from "../entry.js";
import { parseStamp, type StampChange, type TagStamp } from "../tags/stamps.js";
import type { CacheStore, ClockRequest, RefreshStart, TaggedRead } from "./types.js";
import type * as ScriptTexts from "./upstash-scripts.js";

function makeScripts(redis: Redis, texts: typeof ScriptTexts) {
  return {
    setIfNotNewer: redis.createScript<number>(texts.SET_IF_NOT_NEWER),
    markStale: redis.createScript<number>(texts.MARK_STALE),
    releaseLock: redis.createScript<number>(texts.RELEASE_LOCK),
    nextVersion: redis.createScript<unknown[]>(texts.NEXT_VERSION),
    stampTags: redis.createScript<unknown>(texts.STAMP_TAGS),
    finishRefresh: redis.createScript<number>(texts.FINISH_REFRESH),
  };
}
type Scripts = ReturnType<typeof makeScripts>;

/** A positive whole number of milliseconds, as Redis's `PX` wants it. */
const ms = (value: number): number => Math.max(1, Math.ceil(value));

/**
 * The production store: Upstash Redis through the official `@upstash/redis` client. A read is one `GET`
 * (one round trip); conditional writes are small Lua scripts (EVALSHA, falling back to EVAL once).
 */
export class UpstashStore implements CacheStore {
  readonly name = "upstash";
  readonly #redis: Redis;
  #scripts: Promise<Scripts> | undefined;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  /** The Lua scripts, loaded with the first write (a read that hits needs none of them). */
  #script<K extends keyof Scripts>(name: K): Promise<Scripts[K]> {
    this.#scripts ??= import("./upstash-scripts.js").then((texts) => makeScripts(this.#redis, texts));
    return this.#scripts.then((scripts) => scripts[name]);
  }

  /** The client this store talks through. */
  get redis(): Redis {
    return this.#redis;
  }

  get(key: string): Promise<StoredEntry> {
    return this.getRaw(key).then(toStoredEntry);
  }

  /** The value `@upstash/redis` read (already deserialized), before {@link toStoredEntry}. */
  getRaw(key: string): Promise<unknown> {
    return this.#redis.get<unknown>(key);
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
    const [version, entry, ...stamps] = await (await this.#script("nextVersion")).exec(keys, [String(Math.trunc(clock.floor)), String(ms(clock.ttlMs))]);
    return { version: Number(version), entry: read ? toStoredEntry(entry || null) : null, stamps: stamps.map((s) => parseStamp(s || null)) };
  }

  async stampTags(clock: ClockRequest, stampKeys: readonly string[], change: StampChange, ttlMs: number): Promise<number> {
    const expireAt = change.kind === "stale" && change.expireAt !== undefined ? String(Math.trunc(change.expireAt)) : "0";
    const version = await (await this.#script("stampTags")).exec([clock.key, ...stampKeys], [String(Math.trunc(clock.floor)), String(ms(clock.ttlMs)), change.kind, expireAt, String(ms(ttlMs))]);
    return Number(version);
  }

  async startRefresh(read: { key: string; stampKeys: readonly string[]; doneKey: string }, clock?: ClockRequest): Promise<RefreshStart> {
    if (!clock) {
      const values = await this.#redis.mget<unknown[]>(read.key, ...read.stampKeys, read.doneKey);
      return { version: undefined, entry: toStoredEntry(values[0]), stamps: values.slice(1, -1).map(parseStamp), done: values.at(-1) != null };
    }
    const keys = [clock.key, read.key, ...read.stampKeys, read.doneKey];
    const [version, entry, ...rest] = await (await this.#script("nextVersion")).exec(keys, [String(Math.trunc(clock.floor)), String(ms(clock.ttlMs))]);
    const done = rest.pop();
    return { version: Number(version), entry: toStoredEntry(entry || null), stamps: rest.map((s) => parseStamp(s || null)), done: Boolean(done) };
  }

  async finishRefresh(
    write: { key: string; entry: string; version: number; ttlMs: number },
    done: { key: string; ttlMs: number },
    lock: { key: string; token: string },
  ): Promise<boolean> {
    const wrote = await (await this.#script("finishRefresh")).exec(
      [write.key, done.key, lock.key],
      [write.entry, String(Math.trunc(write.version)), String(ms(write.ttlMs)), String(ms(done.ttlMs)), lock.token],
    );
    return Number(wrote) === 1;
  }

  async set(key: string, entry: string, ttlMs: number): Promise<void> {
    await this.#redis.set(key, entry, { px: ms(ttlMs) });
  }

  async setIfNotNewer(key: string, entry: string, version: number, ttlMs: number): Promise<boolean> {
    const wrote = await (await this.#script("setIfNotNewer")).exec([key], [entry, String(Math.trunc(version)), String(ms(ttlMs))]);
    return Number(wrote) === 1;
  }

  async markStale(key: string, version: number): Promise<boolean> {
    return Number(await (await this.#script("markStale")).exec([key], [String(Math.trunc(version))])) === 1;
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
    return Number(await (await this.#script("releaseLock")).exec([key], [token])) === 1;
  }
}
