/**
 * What the inspector's buttons do. Invalidating goes through next-cacheback itself (`invalidate`: the entry
 * marked stale, the lock taken, a refresh message published to the dev QStash server, which delivers it to
 * the app's refresh route), so it does exactly what `cacheback.invalidate(key)` in the app does.
 */
import { Client } from "@upstash/qstash";
import type { Redis } from "@upstash/redis";
import { Cacheback, describeError, readHeader, UpstashStore } from "next-cacheback";
import type { DeliveryEngine } from "next-cacheback/delivery";
import { decodeEntryId, SEGMENTS } from "./keys.js";
import { num, text, type Reply } from "./rows.js";

/** The servers the actions reach. */
export interface ActionBackends {
  /** A client of the Redis REST server (the app's, with its token), as the library uses it. */
  redis: Redis;
  /** The same server through a client that hands back stored text as it is (no JSON parsing). */
  raw: Redis;
  /** The QStash server the app publishes to. */
  qstash: { url: string; token: string; engine: DeliveryEngine };
  /** Where the app's refresh route listens (`CACHEBACK_REFRESH_URL`). */
  refreshUrl: string;
}

/** What an action did, in a sentence for the page, and what it queued. */
export interface ActionResult {
  ok: boolean;
  message: string;
  messageId?: string;
}

/** The `maxTtl` an app has unless it sets one: a longer `ttl` in a refresh message would be refused. */
const DEFAULT_MAX_TTL_S = 2_592_000;

/** Whether next-cacheback names `cacheKey` `key` (so the job and arguments read from the key are the entry's). */
function sameKey(instance: Cacheback, cacheKey: readonly [string, ...unknown[]], key: string): boolean {
  try {
    return instance.key(cacheKey) === key;
  } catch {
    return false; // arguments the library refuses in a key
  }
}

/** The library instances the actions use, one per prefix. */
export class Actions {
  readonly #backends: ActionBackends;
  readonly #instances = new Map<string, Cacheback>();
  readonly #queueClient: Client;

  constructor(backends: ActionBackends) {
    this.#backends = backends;
    this.#queueClient = new Client({ baseUrl: backends.qstash.url, token: backends.qstash.token, retry: false });
  }

  #instance(prefix: string): Cacheback {
    let instance = this.#instances.get(prefix);
    if (!instance) {
      instance = new Cacheback({ redis: this.#backends.redis, qstash: this.#queueClient, refreshUrl: this.#backends.refreshUrl, prefix, nextCache: false });
      this.#instances.set(prefix, instance);
    }
    return instance;
  }

  /**
   * Invalidates a data entry: marks it stale (`freshUntil` 0) and, when its job and arguments can be read
   * back from the key, queues its refresh as the library's `invalidate` does. The refreshed entry keeps the
   * lifetime and the `ttl` it was written with (read back from its timestamps and its expiry). A hashed
   * key is only marked stale: the app's next read of it queues the refresh.
   */
  async invalidate(prefix: string, key: string): Promise<ActionResult> {
    const entryPrefix = prefix + SEGMENTS.data.entry;
    if (!key.startsWith(entryPrefix)) return { ok: false, message: `${key} is not a data entry under ${prefix}.` };
    const decoded = decodeEntryId(key.slice(entryPrefix.length));
    const instance = this.#instance(prefix);
    const cacheKey = decoded.args === undefined ? undefined : ([decoded.job, ...decoded.args] as const);
    if (cacheKey === undefined || !sameKey(instance, cacheKey, key)) {
      const marked = await new UpstashStore(this.#backends.redis).markStale(key, Date.now() * 1000);
      if (!marked) return { ok: false, message: `Nothing to invalidate: ${key} holds no readable entry.` };
      return {
        ok: true,
        message: `Marked stale only: the key holds a hash of the arguments, so the refresh cannot be queued from here. The app's next read of it serves it stale and queues the refresh.`,
      };
    }
    try {
      const { marked, messageId } = await instance.invalidate(cacheKey, await this.#keptOptions(key));
      return {
        ok: true,
        messageId,
        message: `${marked ? "Marked stale" : "No entry to mark stale"}; refresh queued as ${messageId} to ${this.#backends.refreshUrl}.`,
      };
    } catch (error) {
      return { ok: false, message: `Could not invalidate ${key}: ${describeError(error)}` };
    }
  }

  /** The lifetime and ttl the entry was written with, from its header and its `PTTL`. */
  async #keptOptions(key: string): Promise<{ lifetime?: number; ttl?: number }> {
    const replies = (await this.#backends.raw.pipeline().getrange(key, 0, 127).pttl(key).exec({ keepErrors: true })) as Reply[];
    const header = readHeader(text(replies[0]) ?? "");
    const pttl = num(replies[1], -2);
    if (!header || header.freshUntil <= header.writtenAt) return {};
    const lifetime = (header.freshUntil - header.writtenAt) / 1000;
    if (pttl < 0) return { lifetime };
    const ttl = Math.min(DEFAULT_MAX_TTL_S, Math.round((Date.now() - header.writtenAt + pttl) / 1000));
    return ttl >= lifetime ? { lifetime, ttl } : { lifetime };
  }

  /** Deletes an entry (data or page) and its lock: the app's next read is a miss. */
  async delete(prefix: string, key: string): Promise<ActionResult> {
    const kind = key.startsWith(prefix + SEGMENTS.data.entry) ? SEGMENTS.data : key.startsWith(prefix + SEGMENTS.page.entry) ? SEGMENTS.page : undefined;
    if (!kind) return { ok: false, message: `${key} is not an entry under ${prefix}.` };
    const lock = prefix + kind.lock + key.slice(prefix.length + kind.entry.length);
    const removed = await this.#backends.redis.del(key, lock);
    return { ok: true, message: removed > 0 ? `Deleted ${key}: the next read is a miss.` : `${key} was already gone.` };
  }

  /** Redelivers a dead letter (a new message, fresh retries) through the dev QStash server. */
  async redeliver(id: string): Promise<ActionResult> {
    const messageId = await this.#backends.qstash.engine.redeliver(id);
    if (messageId === undefined) return { ok: false, message: `No dead letter ${id}.` };
    return { ok: true, messageId, message: `Redelivering ${id} as ${messageId}.` };
  }

  /** Drops a dead letter. */
  drop(id: string): ActionResult {
    return this.#backends.qstash.engine.deleteDeadLetter(id)
      ? { ok: true, message: `Dropped dead letter ${id}.` }
      : { ok: false, message: `No dead letter ${id}.` };
  }
}
