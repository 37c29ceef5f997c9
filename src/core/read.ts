import type { Deadlines } from "../deadlines.js";
import { HashNotReadyError, hashReady } from "../hash.js";
import { entryAgeSeconds, type StoredEntry } from "../entry.js";
import { entryKeys, splitKey, type CacheKey, type EntryKeys } from "../keys.js";
import type { FetchOptions, ResolvedRefreshOptions } from "../options.js";
import { jsonSerializer, type Serializer } from "../serializer.js";
import type { CoreContext } from "./context.js";
import { decide, type ReadState } from "./decide.js";
import { lookup, settle, type Lookup, type LookupPlan } from "./lookup.js";
import type { MemorySettings } from "./memory-tier.js";
import { planRead, type Plan } from "./plan.js";
import { requestMemoRead } from "./request-memo.js";
import { SETTLED, type RefreshRequest } from "./request.js";
import type { CachebackResult } from "./results.js";
import type { RefreshScheduler } from "./scheduler.js";
import type { Fetcher, SyncFetcher } from "./sync-fetch.js";

/** What the read path works with. */
export interface ReadDeps {
  ctx: CoreContext;
  scheduler: RefreshScheduler;
  sync: () => Promise<SyncFetcher>;
  /** Plans of frozen option objects (a job's), so a job's reads resolve their options once. */
  plans: WeakMap<object, Plan>;
  /** The read timeout, without a timer made per read. */
  deadlines: Deadlines;
}

const NO_OPTIONS: FetchOptions<unknown> = Object.freeze({});
const STORE_ERROR: ReadState = Object.freeze({ state: "miss", reason: "store-error" });
/** What the lean path hands on when the store failed or timed out. */
const FAILED = Symbol("store failed");
const UNREADABLE: ReadState = Object.freeze({ state: "miss", reason: "unreadable" });

/** One read in progress: what every phase of it needs. */
interface Read<T> {
  deps: ReadDeps;
  keys: EntryKeys;
  name: string;
  args: unknown[];
  fn: Fetcher;
  options: FetchOptions<T>;
  opts: ResolvedRefreshOptions;
  tags: readonly string[];
  memory: MemorySettings | undefined;
  serializer: Serializer<T>;
  plan: LookupPlan;
}

/**
 * The read path. A fresh entry is returned after one store read; a stale one is returned at once and one
 * background refresh is requested; a miss calls `fn` (once per key per process) or, with
 * `fetchOnMiss: false`, returns `empty` and refreshes in the background. Tags add their stamps to the
 * same read, and can make an entry stale or expire it. With `valueOnly`, it resolves to the value alone.
 *
 * A fresh hit of an untagged entry, the common case, is kept lean: one `GET` watched by a pooled timer,
 * and the caller's promise settled straight from the store's answer.
 */
export function read<T>(deps: ReadDeps, key: CacheKey, fn: Fetcher, options?: FetchOptions<T>, valueOnly?: false): Promise<CachebackResult<T>>;
export function read<T>(deps: ReadDeps, key: CacheKey, fn: Fetcher, options: FetchOptions<T> | undefined, valueOnly: true): Promise<T>;
export function read<T>(deps: ReadDeps, key: CacheKey, fn: Fetcher, options: FetchOptions<T> = NO_OPTIONS as FetchOptions<T>, valueOnly = false): Promise<unknown> {
  let r: Read<T>;
  try {
    const { ctx } = deps;
    const { name, args } = splitKey(key);
    const keys = entryKeys(ctx.settings.prefix, name, args);
    const { opts, tags, memory } = planRead(deps.plans, ctx.settings, options as FetchOptions<unknown>, args, keys.entry);
    const serializer = (options.serializer ?? jsonSerializer) as Serializer<T>;
    const plan: LookupPlan = { keys, tags, timeoutMs: ctx.settings.readTimeoutMs, memo: true };
    r = { deps, keys, name, args, fn, options, opts, tags, memory, serializer, plan };
  } catch (error) {
    // Long arguments are hashed; outside Node.js the hash loads at start-up: a read that came first waits for it.
    if (error instanceof HashNotReadyError) return hashReady().then(() => read(deps, key, fn, options, valueOnly as true));
    return Promise.reject(error);
  }
  if (r.memory) {
    const copy = deps.ctx.memory.get(r.name, r.keys.entry, deps.ctx.now());
    const hit = copy && freshHit(r, copy, true);
    if (hit) {
      const value = valueOnly ? hit.value : hit;
      // Inside a 'use cache' scope the tags still reach the enclosing entry.
      const attach = r.tags.length > 0 ? deps.ctx.settings.onTaggedRead?.(r.tags) : undefined;
      return attach ? Promise.resolve(attach).then(() => value) : Promise.resolve(value);
    }
  }
  if (r.tags.length > 0 || !deps.deadlines.limited) return serve(r, undefined, valueOnly);

  const { ctx } = deps;
  return new Promise((resolve) => {
    const watch = deps.deadlines.watch(r.keys.entry, (error) => {
      ctx.report.error("read", r.keys.entry, error);
      resolve(serve(r, FAILED, valueOnly));
    });
    requestMemoRead(ctx.store, r.keys.entry).then(
      (stored) => {
        if (!deps.deadlines.done(watch)) return; // timed out: already served from the fetcher
        const hit = freshHit(r, stored);
        if (hit) resolve(valueOnly ? hit.value : hit);
        else resolve(serve(r, stored, valueOnly));
      },
      (error: unknown) => {
        if (!deps.deadlines.done(watch)) return;
        ctx.report.error("read", r.keys.entry, error);
        resolve(serve(r, FAILED, valueOnly));
      },
    );
  });
}

/**
 * The result of a fresh entry read from Redis without tags (or, `fromMemory`, a copy in this process's
 * memory, whose tags were checked when it was taken), or `undefined` when the entry needs the full decision.
 */
function freshHit<T>(r: Read<T>, stored: StoredEntry, fromMemory = false): CachebackResult<T> | undefined {
  if (typeof stored !== "object" || stored === null || (stored.tags !== undefined && !fromMemory)) return undefined;
  const { ctx } = r.deps;
  const now = ctx.now();
  if (now >= stored.freshUntil) return undefined;
  let value: T;
  try {
    value = r.serializer.deserialize(stored.value);
  } catch {
    return undefined; // the full path reports it and treats it as unreadable
  }
  const age = entryAgeSeconds(stored, now);
  if (fromMemory) {
    if (ctx.events.wants("hit")) ctx.events.emit("hit", { key: r.keys.entry, age, memory: true });
    return { value, status: "hit", reason: "fresh", syncFetch: false, age, refreshScheduled: false, background: SETTLED, fromMemory: true };
  }
  if (r.memory) ctx.memory.remember(r.name, r.keys.entry, stored, r.tags, now, r.memory);
  if (ctx.events.wants("hit")) ctx.events.emit("hit", { key: r.keys.entry, age });
  return { value, status: "hit", reason: "fresh", syncFetch: false, age, refreshScheduled: false, background: SETTLED };
}

/**
 * The rest of a read: looks the entry up (unless `stored` is what the lean path read, or `FAILED`),
 * decides, and serves.
 */
async function serve<T>(r: Read<T>, stored: StoredEntry | typeof FAILED | undefined, valueOnly: boolean): Promise<unknown> {
  const result = await decideAndServe(r, stored);
  return valueOnly ? result.value : result;
}

async function decideAndServe<T>(r: Read<T>, stored: StoredEntry | typeof FAILED | undefined): Promise<CachebackResult<T>> {
  const { deps, keys, name, args, fn, options, opts, tags, serializer } = r;
  const { ctx } = deps;
  let found: Lookup | undefined;
  try {
    if (stored === undefined) {
      if (tags.length > 0) await ctx.settings.onTaggedRead?.(tags);
      found = await lookup(ctx, r.plan);
    } else if (stored !== FAILED) {
      found = await settle(ctx, r.plan, stored, undefined);
    }
  } catch (error) {
    ctx.report.error("read", keys.entry, error);
  }

  const entry = found?.entry;
  const now = ctx.now();
  let decision = found === undefined ? STORE_ERROR : found.unreadable ? UNREADABLE : decide(entry, found.verdict, now, opts.fetchOnStaleThreshold);
  let value: T | undefined;
  if (entry && decision.state !== "miss") {
    try {
      value = serializer.deserialize(entry.value);
    } catch (error) {
      ctx.report.error("read", keys.entry, error);
      decision = UNREADABLE;
    }
  }
  const { reason, tag } = decision;

  if (entry && decision.state === "fresh") {
    const age = entryAgeSeconds(entry, now);
    if (r.memory) ctx.memory.remember(name, keys.entry, entry, tags, now, r.memory);
    ctx.events.emit("hit", { key: keys.entry, age });
    return { value: value as T, status: "hit", reason, syncFetch: false, age, refreshScheduled: false, background: SETTLED };
  }

  const request: RefreshRequest = { keys, job: name, args, options: opts, tags, fn, readOptions: options as FetchOptions<unknown> };
  if (entry && decision.state === "stale") {
    const age = entryAgeSeconds(entry, now);
    ctx.events.emit("stale", { key: keys.entry, age, syncFetch: false, reason, tag });
    const background = deps.scheduler.request(request, "stale");
    return { value: value as T, status: "stale", reason, tag, syncFetch: false, age, refreshScheduled: true, background };
  }

  if (entry && decision.state === "too-stale") {
    try {
      const { value: fresh, background } = await (await deps.sync()).run<T>(request, fn, serializer);
      ctx.events.emit("stale", { key: keys.entry, age: entryAgeSeconds(entry, ctx.now()), syncFetch: true, reason, tag });
      return { value: fresh, status: "stale", reason, tag, syncFetch: true, age: 0, refreshScheduled: false, background };
    } catch (error) {
      // The source failed: serve what we have rather than an error page, and retry in the background.
      ctx.events.emit("refresh-failed", { key: keys.entry, job: name, error, sync: true });
      const age = entryAgeSeconds(entry, ctx.now());
      ctx.events.emit("stale", { key: keys.entry, age, syncFetch: false, reason, tag });
      const background = deps.scheduler.request(request, "stale");
      return { value: value as T, status: "stale", reason, tag, syncFetch: false, age, refreshScheduled: true, background };
    }
  }

  // Miss: absent, expired by a tag, unreadable, or the store is down.
  if (options.fetchOnMiss === false && reason !== "store-error") {
    ctx.events.emit("miss", { key: keys.entry, syncFetch: false, reason, tag });
    const background = deps.scheduler.request(request, "miss");
    return { value: (options.empty ?? null) as T, status: "miss", reason, tag, syncFetch: false, age: null, refreshScheduled: true, background };
  }
  ctx.events.emit("miss", { key: keys.entry, syncFetch: true, reason, tag });
  const { value: fetched, background } = await (await deps.sync()).run<T>(request, fn, serializer);
  return { value: fetched, status: "miss", reason, tag, syncFetch: true, age: 0, refreshScheduled: false, background };
}
