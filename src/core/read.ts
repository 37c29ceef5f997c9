import { entryAgeSeconds } from "../entry.js";
import { entryKeys, splitKey, type CacheKey } from "../keys.js";
import type { FetchOptions } from "../options.js";
import { jsonSerializer, type Serializer } from "../serializer.js";
import type { CoreContext } from "./context.js";
import { decide, type ReadState } from "./decide.js";
import { lookup, type Lookup } from "./lookup.js";
import { planRead, type Plan } from "./plan.js";
import type { CachebackResult } from "./results.js";
import { SETTLED, type RefreshRequest } from "./request.js";
import type { RefreshScheduler } from "./scheduler.js";
import type { Fetcher, SyncFetcher } from "./sync-fetch.js";

/** What the read path works with. */
export interface ReadDeps {
  ctx: CoreContext;
  scheduler: RefreshScheduler;
  sync: SyncFetcher;
  /** Plans of frozen option objects (a job's), so a job's reads resolve their options once. */
  plans: WeakMap<object, Plan>;
}

const NO_OPTIONS: FetchOptions<unknown> = Object.freeze({});
const STORE_ERROR: ReadState = Object.freeze({ state: "miss", reason: "store-error" });
const UNREADABLE: ReadState = Object.freeze({ state: "miss", reason: "unreadable" });

/**
 * The read path. A fresh entry is returned after one store read; a stale one is returned at once and one
 * background refresh is requested; a miss calls `fn` (once per key per process) or, with
 * `fetchOnMiss: false`, returns `empty` and refreshes in the background. Tags add their stamps to the
 * same read, and can make an entry stale or expire it.
 */
export async function read<T>(deps: ReadDeps, key: CacheKey, fn: Fetcher, options: FetchOptions<T> = NO_OPTIONS as FetchOptions<T>): Promise<CachebackResult<T>> {
  const { ctx } = deps;
  const { name, args } = splitKey(key);
  const keys = entryKeys(ctx.settings.prefix, name, args);
  const { opts, tags } = planRead(deps.plans, ctx.settings, options as FetchOptions<unknown>, args, keys.entry);
  const serializer = (options.serializer ?? jsonSerializer) as Serializer<T>;
  if (tags.length > 0) await ctx.settings.onTaggedRead?.(tags);

  let found: Lookup | undefined;
  try {
    found = await lookup(ctx, { keys, tags, timeoutMs: ctx.settings.readTimeoutMs, memo: true });
  } catch (error) {
    ctx.report.error("read", keys.entry, error);
  }
  const entry = found?.entry;
  const now = ctx.now();
  let decision = found === undefined ? STORE_ERROR : found.unreadable ? UNREADABLE : decide(entry, found.verdict, now, opts.fetchOnStaleThreshold);
  let value: T | undefined;
  if (entry && decision.state !== "miss") {
    try {
      value = serializer.deserialize(entry.data);
    } catch (error) {
      ctx.report.error("read", keys.entry, error);
      decision = UNREADABLE;
    }
  }
  const { reason, tag } = decision;

  if (entry && decision.state === "fresh") {
    const age = entryAgeSeconds(entry, now);
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
      const { value: fresh, background } = await deps.sync.run<T>(request, fn, serializer);
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
  const { value: fetched, background } = await deps.sync.run<T>(request, fn, serializer);
  return { value: fetched, status: "miss", reason, tag, syncFetch: true, age: 0, refreshScheduled: false, background };
}
