import { runInBackground as afterResponse } from "./background.js";
import { envVar, type CachebackConfig, type SigningKeys } from "./config.js";
import { requestMemoRead } from "./dedupe.js";
import { decodeEnvelope, encodeEnvelope, entryAgeSeconds, entryState } from "./entry.js";
import { CachebackConfigError, CachebackTimeoutError } from "./errors.js";
import { EventHub, type CachebackEvent, type CachebackEvents, type CachebackEventType, type CacheStatus } from "./events.js";
import { entryKeys, splitKey, type CacheKey, type EntryKeys } from "./keys.js";
import { buildRefreshMessage, type RefreshMessage } from "./message.js";
import { resolveRefreshOptions, type FetchOptions, type RefreshOptions, type ResolvedRefreshOptions } from "./options.js";
import { LocalQueue } from "./queues/local.js";
import { QStashQueue } from "./queues/qstash.js";
import type { RefreshQueue } from "./queues/types.js";
import { assertJson, jsonSerializer, type Serializer } from "./serializer.js";
import { MemoryStore } from "./stores/memory.js";
import type { CacheStore } from "./stores/types.js";
import { UpstashStore } from "./stores/upstash.js";
import { withTimeout } from "./timeout.js";
import { processVersionClock, VersionClock, versionAt } from "./version-clock.js";
import { makeJob, type Job, type JobOptions } from "./job.js";
import { createRefreshHandler, type RefreshHandlerOptions } from "./route.js";
import type { Awaitable, ReadOptions, ReadValue } from "./types.js";

/** A read's value with what happened to produce it (django-cacheback's `process_result`). */
export interface CachebackResult<T> {
  /** The value served: cached, freshly fetched, or the `empty` value. */
  value: T;
  /** `hit`: fresh entry; `stale`: entry past its lifetime; `miss`: no usable entry. */
  status: CacheStatus;
  /** Whether the fetcher ran during this read (a miss with `fetchOnMiss`, or past `fetchOnStaleThreshold`). */
  syncFetch: boolean;
  /** Age in seconds of the value served (0 right after a synchronous fetch); `null` when `empty` was served. */
  age: number | null;
  /**
   * Whether a background refresh is on its way: asked for by this read, or by a read of this process
   * moments before (the shared lock decides which instance actually queues it).
   */
  refreshScheduled: boolean;
  /** Settles when this read's background work (lock, publish, write-back) is done. Hand it to `waitUntil` if you like. */
  background: Promise<void>;
}

/** What `peek` finds, with no side effects. */
export interface PeekResult<T> {
  /** `hit` (fresh), `stale`, or `miss` (absent, expired, or unreadable). */
  status: CacheStatus;
  /** The stored value; `undefined` on a miss. */
  value: T | undefined;
  /** Seconds since the value was written; `null` on a miss. */
  age: number | null;
  /** When the value was written, ms since the epoch. */
  writtenAt: number | null;
  /** Until when the entry is fresh, ms since the epoch (0 after `invalidate`). */
  freshUntil: number | null;
  /** True when something is stored under the key but it is not a readable entry (a read treats it as a miss). */
  corrupt: boolean;
}

/** What `invalidate` did. */
export interface InvalidateResult {
  /** Whether an entry was there to mark stale. */
  marked: boolean;
  /** The queue's id of the refresh message. */
  messageId: string;
}

/** Internal: a refresh that ran (or had nothing to do). */
export interface RefreshSuccess {
  ok: true;
  /** `written`; `skipped-newer`: a newer entry was stored meanwhile; `skipped-fresh`: already refreshed. */
  status: "written" | "skipped-newer" | "skipped-fresh";
  key: string;
  durationMs: number;
}

/** Internal: a refresh that failed, and in which phase. */
export interface RefreshFailure {
  ok: false;
  phase: "options" | "store" | "fetch" | "timeout" | "serialize";
  key: string;
  error: unknown;
}

/** Internal: the outcome of one refresh run by the refresh route. */
export type RefreshOutcome = RefreshSuccess | RefreshFailure;

type Fetcher = (...args: never[]) => unknown;

/** The options type of a call that passes none. */
export type NoOptions = Record<never, never>;

/** The typed signature of `fetch` / `cachebackFetch`: the key's arguments are checked against `fn`'s parameters. */
export interface TypedFetch {
  <T, const O extends ReadOptions<T> = NoOptions>(key: string, fn: () => Awaitable<T>, options?: O): Promise<ReadValue<T, O>>;
  <A extends readonly unknown[], T, const O extends ReadOptions<T> = NoOptions>(
    key: readonly [name: string, ...args: A],
    fn: (...args: NoInfer<A>) => Awaitable<T>,
    options?: O,
  ): Promise<ReadValue<T, O>>;
}

/** The typed signature of `fetchWithStatus` / `cachebackFetchWithStatus`. */
export interface TypedFetchWithStatus {
  <T, const O extends ReadOptions<T> = NoOptions>(key: string, fn: () => Awaitable<T>, options?: O): Promise<CachebackResult<ReadValue<T, O>>>;
  <A extends readonly unknown[], T, const O extends ReadOptions<T> = NoOptions>(
    key: readonly [name: string, ...args: A],
    fn: (...args: NoInfer<A>) => Awaitable<T>,
    options?: O,
  ): Promise<CachebackResult<ReadValue<T, O>>>;
}

const DEFAULT_PREFIX = "cacheback:";
/** The `background` of a read with nothing left to do. */
const SETTLED: Promise<void> = Promise.resolve();
/** How long a process skips its own repeated refresh requests for one entry (capped by refreshTimeout). */
const REFRESH_REQUEST_MEMO_MS = 250;
let instanceCount = 0;

/**
 * An instance: a store, a queue, a prefix and option defaults. The top-level functions use one made from
 * the environment; `createCacheback(config)` makes others.
 */
export class Cacheback {
  /** The store entries live in. */
  readonly store: CacheStore;
  /** The queue refresh messages go to. */
  readonly queue: RefreshQueue;
  /** Prefix of every key this instance writes. */
  readonly prefix: string;
  /** A label for logs. */
  readonly id: string;

  readonly #config: CachebackConfig;
  readonly #defaults: RefreshOptions | undefined;
  readonly #resolvedDefaults: ResolvedRefreshOptions;
  readonly #events: EventHub;
  readonly #now: () => number;
  readonly #versions: VersionClock;
  readonly #readTimeoutMs: number;
  readonly #bgTimeoutMs: number;
  readonly #background: (task: () => Promise<unknown>) => Promise<void>;
  readonly #inflight = new Map<string, Promise<unknown>>();
  /** Lock key → until when this process does not try that lock again (see #requestRefresh). */
  readonly #refreshRequested = new Map<string, number>();
  readonly #storeRead = (key: string) => this.store.get(key);
  readonly #lastLogged = new Map<string, number>();

  constructor(config: CachebackConfig = {}) {
    this.#config = config;
    this.store = config.store ?? (config.redis ? new UpstashStore(config.redis) : new MemoryStore({ now: config.now }));
    this.queue = config.queue ?? (config.qstash ? new QStashQueue(config.qstash) : new LocalQueue());
    this.prefix = config.prefix ?? DEFAULT_PREFIX;
    this.#defaults = config.defaults;
    this.#resolvedDefaults = resolveRefreshOptions(config.defaults); // fails fast on bad defaults
    this.#now = config.now ?? Date.now;
    this.#versions = config.now ? new VersionClock(config.now) : processVersionClock();
    this.#readTimeoutMs = (config.readTimeout ?? 1) * 1000;
    this.#bgTimeoutMs = (config.backgroundTimeout ?? 10) * 1000;
    this.#background = config.runInBackground ?? afterResponse;
    this.id = `${this.store.name}+${this.queue.name}#${++instanceCount}`;
    const debug = config.debug ?? envVar("CACHEBACK_DEBUG") !== undefined;
    this.#events = new EventHub(debug ? (e) => console.debug(`[next-cacheback] ${formatEvent(e)}`) : undefined);
  }

  /**
   * Subscribes to events (`hit`, `stale`, `miss`, `refresh-queued`, `refresh-done`, `refresh-failed`,
   * `error`, or `"*"` for all). Returns the unsubscribe function.
   */
  on<K extends CachebackEventType | "*">(
    type: K,
    listener: (event: K extends CachebackEventType ? { type: K } & CachebackEvents[K] : CachebackEvent) => void,
  ): () => void {
    return this.#events.on(type, listener);
  }

  /** The Redis key an entry is stored under. */
  key(key: CacheKey): string {
    const { name, args } = splitKey(key);
    return entryKeys(this.prefix, name, args).entry;
  }

  /**
   * Reads through the cache. A fresh entry is returned after one store read; a stale one is returned at
   * once and one background refresh is queued (one across every instance); a miss calls `fn` (once per
   * key per process) or, with `fetchOnMiss: false`, returns `empty` and refreshes in the background.
   *
   * `key` is a job name, or `[jobName, ...args]` where `args` are what `fn` is called with.
   */
  readonly fetch: TypedFetch = ((key: CacheKey, fn: Fetcher, options?: FetchOptions<unknown>) =>
    this.read(key, fn, options).then((r) => r.value)) as TypedFetch;

  /** Like {@link Cacheback.fetch}, and tells what happened: status, whether `fn` ran, the entry's age. */
  readonly fetchWithStatus: TypedFetchWithStatus = ((key: CacheKey, fn: Fetcher, options?: FetchOptions<unknown>) =>
    this.read(key, fn, options)) as TypedFetchWithStatus;

  /** Defines a named, typed job on this instance (see the top-level `defineJob`). */
  defineJob<A extends readonly unknown[], T, const O extends JobOptions<A, T> = JobOptions<A, T>>(
    name: string,
    fn: (...args: A) => Awaitable<T>,
    options?: O,
  ): Job<A, T, ReadValue<T, O>> {
    return makeJob<A, T, ReadValue<T, O>>(() => this, name, fn, options);
  }

  /** The refresh route of this instance (see the top-level `createRefreshHandler`). */
  createRefreshHandler(options: Omit<RefreshHandlerOptions, "cacheback">): (request: Request) => Promise<Response> {
    return createRefreshHandler({ ...options, cacheback: this });
  }

  /**
   * The untyped core of {@link Cacheback.fetchWithStatus}; prefer the typed `fetch` / `fetchWithStatus`.
   */
  async read<T>(key: CacheKey, fn: Fetcher, options: FetchOptions<T> = {}): Promise<CachebackResult<T>> {
    const { name, args } = splitKey(key);
    const keys = entryKeys(this.prefix, name, args);
    const opts =
      options.lifetime === undefined && options.ttl === undefined && options.refreshTimeout === undefined && options.fetchOnStaleThreshold === undefined
        ? this.#resolvedDefaults
        : resolveRefreshOptions(this.#defaults, options);
    const serializer = (options.serializer ?? jsonSerializer) as Serializer<T>;

    let stored: unknown = null;
    let readFailed = false;
    try {
      stored = await withTimeout(requestMemoRead(this.#storeRead, keys.entry), this.#readTimeoutMs, () => `read of ${keys.entry}`);
    } catch (error) {
      readFailed = true;
      this.#reportError("read", keys.entry, error);
    }

    const entry = stored === null || stored === undefined ? undefined : decodeEnvelope(stored);
    let value: T | undefined;
    const now = this.#now();
    let state = entryState(entry, now, opts.fetchOnStaleThreshold);
    if (entry && state !== "miss") {
      try {
        value = serializer.deserialize(entry.data);
      } catch (error) {
        this.#reportError("read", keys.entry, error);
        state = "miss";
      }
    }

    if (entry && state === "fresh") {
      const age = entryAgeSeconds(entry, now);
      this.#events.emit("hit", { key: keys.entry, age });
      return { value: value as T, status: "hit", syncFetch: false, age, refreshScheduled: false, background: SETTLED };
    }

    if (entry && state === "stale") {
      const age = entryAgeSeconds(entry, now);
      this.#events.emit("stale", { key: keys.entry, age, syncFetch: false });
      const background = this.#requestRefresh(keys, name, args, opts, "stale");
      return { value: value as T, status: "stale", syncFetch: false, age, refreshScheduled: true, background };
    }

    if (entry && state === "too-stale") {
      try {
        const { value: fresh, background } = await this.#fetchAndStore<T>(keys, name, args, fn, opts, serializer);
        this.#events.emit("stale", { key: keys.entry, age: entryAgeSeconds(entry, this.#now()), syncFetch: true });
        return { value: fresh, status: "stale", syncFetch: true, age: 0, refreshScheduled: false, background };
      } catch (error) {
        // The source failed: serve what we have rather than an error page, and retry in the background.
        this.#events.emit("refresh-failed", { key: keys.entry, job: name, error, sync: true });
        const age = entryAgeSeconds(entry, this.#now());
        this.#events.emit("stale", { key: keys.entry, age, syncFetch: false });
        const background = this.#requestRefresh(keys, name, args, opts, "stale");
        return { value: value as T, status: "stale", syncFetch: false, age, refreshScheduled: true, background };
      }
    }

    // Miss (absent, expired, unreadable, or the store is down).
    if (options.fetchOnMiss === false && !readFailed) {
      this.#events.emit("miss", { key: keys.entry, syncFetch: false });
      const background = this.#requestRefresh(keys, name, args, opts, "miss");
      return { value: (options.empty ?? null) as T, status: "miss", syncFetch: false, age: null, refreshScheduled: true, background };
    }
    this.#events.emit("miss", { key: keys.entry, syncFetch: true });
    const { value: fetched, background } = await this.#fetchAndStore<T>(keys, name, args, fn, opts, serializer);
    return { value: fetched, status: "miss", syncFetch: true, age: 0, refreshScheduled: false, background };
  }

  /**
   * Marks an entry stale and queues a refresh at once, whoever holds the refresh lock. Readers keep
   * getting the old value until the refresh writes the new one; a refresh that began before this call
   * cannot overwrite its outcome. Without a `lifetime` option the refreshed entry keeps the lifetime it
   * was written with.
   */
  async invalidate(key: CacheKey, options?: RefreshOptions): Promise<InvalidateResult> {
    const { name, args } = splitKey(key);
    const keys = entryKeys(this.prefix, name, args);
    // Without an explicit lifetime the refreshed entry keeps the one it was written with, not the default.
    let kept: RefreshOptions | undefined;
    if (options?.lifetime === undefined) {
      const current = decodeEnvelope(await this.store.get(keys.entry));
      if (current && current.freshUntil > current.writtenAt) kept = { lifetime: (current.freshUntil - current.writtenAt) / 1000 };
    }
    const opts = resolveRefreshOptions(this.#defaults, kept, options);
    const at = this.#now();
    const marked = await this.store.markStale(keys.entry, this.#versions.next());
    const token = crypto.randomUUID();
    await this.store.forceLock(keys.lock, token, opts.refreshTimeout * 1000);
    try {
      const messageId = await this.#publish(keys, name, args, opts, token, at, "invalidate");
      return { marked, messageId };
    } catch (error) {
      await this.store.releaseLock(keys.lock, token).catch(() => false);
      throw error;
    }
  }

  /** Removes an entry (and its refresh lock). The next read is a miss. */
  async delete(key: CacheKey): Promise<void> {
    const { name, args } = splitKey(key);
    const keys = entryKeys(this.prefix, name, args);
    await this.store.delete(keys.entry, keys.lock);
  }

  /** Writes a value by hand, fresh for `lifetime`. It wins over any refresh that began before it. */
  async set<T>(key: CacheKey, value: T, options?: RefreshOptions & { serializer?: Serializer<T> }): Promise<void> {
    const { name, args } = splitKey(key);
    const keys = entryKeys(this.prefix, name, args);
    const opts = resolveRefreshOptions(this.#defaults, options);
    const raw = this.#encode(keys.entry, value, options?.serializer ?? (jsonSerializer as Serializer<T>), opts, this.#versions.next());
    await this.store.set(keys.entry, raw, opts.ttl * 1000);
  }

  /** Reads the raw entry with its status and age; no fetch, no refresh, no events. */
  async peek<T = unknown>(key: CacheKey, options?: { serializer?: Serializer<T> }): Promise<PeekResult<T>> {
    const { name, args } = splitKey(key);
    const keys = entryKeys(this.prefix, name, args);
    const stored = await this.store.get(keys.entry);
    const entry = stored === null || stored === undefined ? undefined : decodeEnvelope(stored);
    const missing: PeekResult<T> = { status: "miss", value: undefined, age: null, writtenAt: null, freshUntil: null, corrupt: false };
    if (!entry) return { ...missing, corrupt: stored !== null && stored !== undefined };
    let value: T;
    try {
      value = (options?.serializer ?? (jsonSerializer as Serializer<T>)).deserialize(entry.data);
    } catch {
      return { ...missing, corrupt: true };
    }
    const now = this.#now();
    return {
      status: entryState(entry, now) === "fresh" ? "hit" : "stale",
      value,
      age: entryAgeSeconds(entry, now),
      writtenAt: entry.writtenAt,
      freshUntil: entry.freshUntil,
      corrupt: false,
    };
  }

  /**
   * Runs one refresh for the refresh route: calls the fetcher and writes the entry unless a newer one
   * (a later `set`, `invalidate` or refresh) is stored. Never throws: the outcome says what failed.
   * @internal
   */
  async runRefresh(message: RefreshMessage, fn: Fetcher, jobOptions: FetchOptions<unknown> | undefined): Promise<RefreshOutcome> {
    const keys = entryKeys(this.prefix, message.job, message.args);
    const serializer = jobOptions?.serializer ?? jsonSerializer;
    const startedAt = this.#now();
    const version = this.#versions.next();
    const failed = (phase: RefreshFailure["phase"], error: unknown): RefreshFailure => {
      this.#events.emit("refresh-failed", { key: keys.entry, job: message.job, error, sync: false });
      return { ok: false, phase, key: keys.entry, error };
    };
    let opts: ResolvedRefreshOptions;
    try {
      opts = resolveRefreshOptions(this.#defaults, jobOptions, message.options);
    } catch (error) {
      return failed("options", error);
    }

    // At-least-once delivery: a message whose refresh already happened (the entry is fresh and its data
    // was taken after the message was queued) does not run the fetcher again.
    let current: ReturnType<typeof decodeEnvelope>;
    try {
      current = decodeEnvelope(await withTimeout(this.store.get(keys.entry), this.#bgTimeoutMs, `read of ${keys.entry}`));
    } catch (error) {
      return failed("store", error);
    }
    if (current && entryState(current, startedAt) === "fresh" && current.version >= versionAt(message.queuedAt)) {
      await this.store.releaseLock(keys.lock, message.lock).catch(() => false);
      return { ok: true, status: "skipped-fresh", key: keys.entry, durationMs: 0 };
    }

    let value: unknown;
    try {
      value = await withTimeout(
        Promise.resolve().then(() => fn(...(message.args as never[]))),
        opts.refreshTimeout * 1000,
        `job "${message.job}"`,
      );
    } catch (error) {
      return failed(error instanceof CachebackTimeoutError ? "timeout" : "fetch", error);
    }
    let raw: string;
    try {
      raw = this.#encode(keys.entry, value, serializer, opts, version);
    } catch (error) {
      return failed("serialize", error);
    }
    let written: boolean;
    try {
      written = await withTimeout(this.store.setIfNotNewer(keys.entry, raw, version, opts.ttl * 1000), this.#bgTimeoutMs, `write of ${keys.entry}`);
    } catch (error) {
      return failed("store", error);
    }
    await this.store.releaseLock(keys.lock, message.lock).catch((error: unknown) => this.#reportError("unlock", keys.entry, error));
    const durationMs = this.#now() - startedAt;
    this.#events.emit("refresh-done", { key: keys.entry, job: message.job, durationMs, written, sync: false });
    return { ok: true, status: written ? "written" : "skipped-newer", key: keys.entry, durationMs };
  }

  /** Releases a refresh lock (the refresh route does this when a message can never succeed). @internal */
  async releaseLockFor(message: RefreshMessage): Promise<void> {
    const keys = entryKeys(this.prefix, message.job, message.args);
    await this.store.releaseLock(keys.lock, message.lock).catch(() => false);
  }

  /** The keys the refresh route verifies signatures with; throws when QStash is used without them. @internal */
  signingKeys(): SigningKeys {
    if (this.#config.signingKeys) return this.#config.signingKeys;
    if (this.queue instanceof LocalQueue) return { current: this.queue.signingKey, next: this.queue.signingKey };
    const current = envVar("QSTASH_CURRENT_SIGNING_KEY");
    const next = envVar("QSTASH_NEXT_SIGNING_KEY");
    if (current && next) return { current, next };
    throw new CachebackConfigError(
      "The refresh route cannot verify QStash signatures: set QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY " +
        "(Upstash console > QStash > Signing keys), or pass signingKeys to createCacheback().",
    );
  }

  /** The absolute URL QStash delivers refresh messages to. @internal */
  refreshUrl(): string {
    const configured = this.#config.refreshUrl ?? envVar("CACHEBACK_REFRESH_URL");
    if (configured) return configured;
    const production = this.#config.production ?? envVar("NODE_ENV") === "production";
    const local = `http://127.0.0.1:${envVar("PORT") ?? "3000"}/api/cacheback`;
    if (this.queue instanceof LocalQueue) return local;
    if (production) {
      throw new CachebackConfigError(
        "No refresh URL: set CACHEBACK_REFRESH_URL to the absolute URL of your refresh route " +
          "(for example https://your-app.example/api/cacheback), or pass refreshUrl to createCacheback(). " +
          "It is never taken from a request's Host header.",
      );
    }
    this.#logOnce("refresh-url", `[next-cacheback] CACHEBACK_REFRESH_URL is not set; refreshes go to ${local} (outside production only).`);
    return local;
  }

  // --- internals -------------------------------------------------------------------------------

  #encode<T>(key: string, value: T, serializer: Serializer<T>, opts: ResolvedRefreshOptions, version: number): string {
    const data = serializer.serialize(value);
    assertJson(data, key, serializer === jsonSerializer ? "value" : "serialized value");
    const writtenAt = this.#now();
    return encodeEnvelope({ writtenAt, freshUntil: writtenAt + opts.lifetime * 1000, version }, JSON.stringify(data));
  }

  /** Single-flight fetch: one fetcher call per key per process; the write-back never delays the reader. */
  #fetchAndStore<T>(
    keys: EntryKeys,
    name: string,
    args: readonly unknown[],
    fn: Fetcher,
    opts: ResolvedRefreshOptions,
    serializer: Serializer<T>,
  ): Promise<{ value: T; background: Promise<void> }> {
    const existing = this.#inflight.get(keys.entry) as Promise<{ value: T; background: Promise<void> }> | undefined;
    if (existing) return existing;
    const run = (async () => {
      const startedAt = this.#now();
      const version = this.#versions.next();
      const value = (await fn(...(args as never[]))) as T;
      const raw = this.#encode(keys.entry, value, serializer, opts, version);
      const durationMs = this.#now() - startedAt;
      const write = withTimeout(this.store.setIfNotNewer(keys.entry, raw, version, opts.ttl * 1000), this.#bgTimeoutMs, `write of ${keys.entry}`).then(
        (written) => this.#events.emit("refresh-done", { key: keys.entry, job: name, durationMs, written, sync: true }),
        (error: unknown) => this.#reportError("write", keys.entry, error),
      );
      // Later readers in this process join the in-flight call until the write has landed.
      void write.finally(() => this.#inflight.delete(keys.entry));
      return { value, background: this.#background(() => write) };
    })();
    this.#inflight.set(keys.entry, run);
    run.catch(() => this.#inflight.delete(keys.entry));
    return run;
  }

  /**
   * Asks for a background refresh, unless this process asked for one of this entry moments ago: the
   * lock that attempt took or found is still held, so another attempt could only lose. Stale reads thus
   * cost one `GET`, like hits, while a refresh is on its way; a failed attempt clears the memo at once.
   */
  #requestRefresh(keys: EntryKeys, name: string, args: readonly unknown[], opts: ResolvedRefreshOptions, reason: "stale" | "miss"): Promise<void> {
    const now = this.#now();
    const until = this.#refreshRequested.get(keys.lock);
    if (until !== undefined && until > now) return SETTLED;
    if (this.#refreshRequested.size >= 10_000) {
      for (const [lock, t] of this.#refreshRequested) if (t <= now) this.#refreshRequested.delete(lock);
    }
    this.#refreshRequested.set(keys.lock, now + Math.min(opts.refreshTimeout * 1000, REFRESH_REQUEST_MEMO_MS));
    return this.#background(() => this.#queueRefresh(keys, name, args, opts, reason));
  }

  /** Background: wins the shared refresh lock, or leaves the refresh to whoever holds it. */
  async #queueRefresh(keys: EntryKeys, name: string, args: readonly unknown[], opts: ResolvedRefreshOptions, reason: "stale" | "miss"): Promise<void> {
    const token = crypto.randomUUID();
    let won: boolean;
    try {
      won = await withTimeout(this.store.acquireLock(keys.lock, token, opts.refreshTimeout * 1000), this.#bgTimeoutMs, `lock of ${keys.lock}`);
    } catch (error) {
      this.#refreshRequested.delete(keys.lock);
      this.#reportError("lock", keys.entry, error);
      return;
    }
    if (!won) return;
    const unlock = () =>
      withTimeout(this.store.releaseLock(keys.lock, token), this.#bgTimeoutMs, `unlock of ${keys.lock}`).catch((e: unknown) =>
        this.#reportError("unlock", keys.entry, e),
      );
    // The refresh route releases the lock once it has written, so a reader that saw the entry stale just
    // before that can win the lock just after it: then the entry is fresh again and there is nothing to queue.
    if (await this.#freshNow(keys, opts)) {
      await unlock();
      return;
    }
    try {
      await this.#publish(keys, name, args, opts, token, this.#now(), reason);
    } catch (error) {
      this.#reportError("publish", keys.entry, error);
      // Let a later read queue the refresh again instead of waiting out the lock.
      this.#refreshRequested.delete(keys.lock);
      await unlock();
    }
  }

  /** Whether the entry is fresh right now (one store read); `false` when the store cannot tell. */
  async #freshNow(keys: EntryKeys, opts: ResolvedRefreshOptions): Promise<boolean> {
    try {
      const current = decodeEnvelope(await withTimeout(this.store.get(keys.entry), this.#bgTimeoutMs, `read of ${keys.entry}`));
      return current !== undefined && entryState(current, this.#now(), opts.fetchOnStaleThreshold) === "fresh";
    } catch {
      return false;
    }
  }

  async #publish(
    keys: EntryKeys,
    name: string,
    args: readonly unknown[],
    opts: ResolvedRefreshOptions,
    token: string,
    queuedAt: number,
    reason: "stale" | "miss" | "invalidate",
  ): Promise<string> {
    const url = this.refreshUrl();
    const message = buildRefreshMessage(name, args, token, queuedAt, opts);
    const { messageId } = await withTimeout(
      this.queue.publish(message, { url, deduplicationId: `cacheback-${token}` }),
      this.#bgTimeoutMs,
      `publish of the refresh of ${keys.entry}`,
    );
    this.#events.emit("refresh-queued", { key: keys.entry, job: name, messageId, reason });
    return messageId;
  }

  #reportError(operation: CachebackEvents["error"]["operation"], key: string, error: unknown): void {
    if (this.#events.wants("error")) {
      this.#events.emit("error", { key, operation, error });
      return;
    }
    // Nobody listens: log, at most once per operation every 10 s so an outage does not flood the log.
    const now = Date.now();
    if ((this.#lastLogged.get(operation) ?? 0) + 10_000 > now) return;
    this.#lastLogged.set(operation, now);
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.error(`[next-cacheback] ${operation} failed for ${key} (${why}); the read was served anyway. Subscribe to "error" events to handle these.`);
  }

  #logOnce(id: string, line: string): void {
    if (this.#lastLogged.has(`once:${id}`)) return;
    this.#lastLogged.set(`once:${id}`, 1);
    console.warn(line);
  }
}

function formatEvent(event: CachebackEvent): string {
  const { type, ...rest } = event;
  const parts = Object.entries(rest).map(([k, v]) => `${k}=${v instanceof Error ? `${v.name}: ${v.message}` : typeof v === "string" ? v : JSON.stringify(v)}`);
  return `${type} ${parts.join(" ")}`;
}

/** Makes an explicit instance (own Redis / QStash clients, prefix, defaults). */
export function createCacheback(config: CachebackConfig = {}): Cacheback {
  return new Cacheback(config);
}
