import type { Redis } from "@upstash/redis";
import { toStoredEntry, type StoredEntry } from "../entry.js";
import type { CacheStore } from "./types.js";

// Each script reads the envelope header with a pattern anchored at the start of the stored string, so the
// value is never decoded or re-encoded. A key of another type (or a value that is not ours) counts as an
// older entry and is overwritten.
const HEADER = `'^{"writtenAt":(%d+),"freshUntil":(%d+),"version":(%d+),"value":'`;

const SET_IF_NOT_NEWER = `
local cur = redis.pcall('GET', KEYS[1])
if type(cur) == 'string' then
  local w, f, v = string.match(cur, ${HEADER})
  if v and tonumber(v) > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1`;

const MARK_STALE = `
local cur = redis.pcall('GET', KEYS[1])
if type(cur) ~= 'string' then return 0 end
local w, f, v = string.match(cur, ${HEADER})
if not w then return 0 end
local head = '{"writtenAt":' .. w .. ',"freshUntil":' .. f .. ',"version":' .. v .. ','
local nv = v
if tonumber(ARGV[1]) > tonumber(v) then nv = ARGV[1] end
redis.call('SET', KEYS[1], '{"writtenAt":' .. w .. ',"freshUntil":0,"version":' .. nv .. ',' .. string.sub(cur, #head + 1), 'KEEPTTL')
return 1`;

const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

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

  constructor(redis: Redis) {
    this.#redis = redis;
    this.#setIfNotNewer = redis.createScript<number>(SET_IF_NOT_NEWER);
    this.#markStale = redis.createScript<number>(MARK_STALE);
    this.#releaseLock = redis.createScript<number>(RELEASE_LOCK);
  }

  /** The client this store talks through. */
  get redis(): Redis {
    return this.#redis;
  }

  async get(key: string): Promise<StoredEntry> {
    return toStoredEntry(await this.#redis.get<unknown>(key));
  }

  async set(key: string, entry: string, ttlMs: number): Promise<void> {
    await this.#redis.set(key, entry, { px: Math.max(1, Math.ceil(ttlMs)) });
  }

  async setIfNotNewer(key: string, entry: string, version: number, ttlMs: number): Promise<boolean> {
    const wrote = await this.#setIfNotNewer.exec([key], [entry, String(Math.trunc(version)), String(Math.max(1, Math.ceil(ttlMs)))]);
    return Number(wrote) === 1;
  }

  async markStale(key: string, version: number): Promise<boolean> {
    return Number(await this.#markStale.exec([key], [String(Math.trunc(version))])) === 1;
  }

  async delete(...keys: string[]): Promise<void> {
    if (keys.length > 0) await this.#redis.del(...keys);
  }

  async acquireLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    const ok = await this.#redis.set(key, token, { nx: true, px: Math.max(1, Math.ceil(ttlMs)) });
    return ok === "OK";
  }

  async forceLock(key: string, token: string, ttlMs: number): Promise<void> {
    await this.#redis.set(key, token, { px: Math.max(1, Math.ceil(ttlMs)) });
  }

  async releaseLock(key: string, token: string): Promise<boolean> {
    return Number(await this.#releaseLock.exec([key], [token])) === 1;
  }
}
