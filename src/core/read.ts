import { entryAgeSeconds, entryState, type Envelope } from "../entry.js";
import { entryKeys, splitKey, type CacheKey } from "../keys.js";
import { resolveRefreshOptions, type FetchOptions, type ResolvedRefreshOptions } from "../options.js";
import { jsonSerializer, type Serializer } from "../serializer.js";
import { withTimeout } from "../timeout.js";
import type { CoreContext } from "./context.js";
import { requestMemoRead } from "./request-memo.js";
import type { CachebackResult } from "./results.js";
import { SETTLED, type RefreshRequest, type RefreshScheduler } from "./scheduler.js";
import type { Fetcher, SyncFetcher } from "./sync-fetch.js";

/** What the read path works with. */
export interface ReadDeps {
  ctx: CoreContext;
  scheduler: RefreshScheduler;
  sync: SyncFetcher;
  /** Resolved options of frozen option objects (a job's), so a job's reads resolve them once. */
  resolved: WeakMap<object, ResolvedRefreshOptions>;
}

const NO_OPTIONS: FetchOptions<unknown> = Object.freeze({});

/** The per-call options over the instance defaults, resolved once per frozen options object. */
function resolveFor(deps: ReadDeps, options: FetchOptions<unknown>): ResolvedRefreshOptions {
  if (options === NO_OPTIONS) return deps.ctx.settings.resolvedDefaults;
  const frozen = Object.isFrozen(options);
  if (frozen) {
    const known = deps.resolved.get(options);
    if (known) return known;
  }
  const resolved = resolveRefreshOptions(deps.ctx.settings.defaults, options);
  if (frozen) deps.resolved.set(options, resolved);
  return resolved;
}

/**
 * The read path. A fresh entry is returned after one store read; a stale one is returned at once and one
 * background refresh is requested; a miss calls `fn` (once per key per process) or, with
 * `fetchOnMiss: false`, returns `empty` and refreshes in the background.
 */
export async function read<T>(deps: ReadDeps, key: CacheKey, fn: Fetcher, options: FetchOptions<T> = NO_OPTIONS as FetchOptions<T>): Promise<CachebackResult<T>> {
  const { ctx } = deps;
  const { name, args } = splitKey(key);
  const keys = entryKeys(ctx.settings.prefix, name, args);
  const opts = resolveFor(deps, options as FetchOptions<unknown>);
  const serializer = (options.serializer ?? jsonSerializer) as Serializer<T>;

  let entry: Envelope | undefined;
  let readFailed = false;
  try {
    const stored = await withTimeout(requestMemoRead(ctx.store, keys.entry), ctx.settings.readTimeoutMs, () => `read of ${keys.entry}`);
    if (typeof stored === "object" && stored !== null) entry = stored;
  } catch (error) {
    readFailed = true;
    ctx.report.error("read", keys.entry, error);
  }

  let value: T | undefined;
  const now = ctx.now();
  let state = entryState(entry, now, opts.fetchOnStaleThreshold);
  if (entry && state !== "miss") {
    try {
      value = serializer.deserialize(entry.data);
    } catch (error) {
      ctx.report.error("read", keys.entry, error);
      state = "miss";
    }
  }

  if (entry && state === "fresh") {
    const age = entryAgeSeconds(entry, now);
    ctx.events.emit("hit", { key: keys.entry, age });
    return { value: value as T, status: "hit", syncFetch: false, age, refreshScheduled: false, background: SETTLED };
  }

  const request: RefreshRequest = { keys, job: name, args, options: opts };
  if (entry && state === "stale") {
    const age = entryAgeSeconds(entry, now);
    ctx.events.emit("stale", { key: keys.entry, age, syncFetch: false });
    const background = deps.scheduler.request(request, "stale");
    return { value: value as T, status: "stale", syncFetch: false, age, refreshScheduled: true, background };
  }

  if (entry && state === "too-stale") {
    try {
      const { value: fresh, background } = await deps.sync.run<T>(keys, name, args, fn, opts, serializer);
      ctx.events.emit("stale", { key: keys.entry, age: entryAgeSeconds(entry, ctx.now()), syncFetch: true });
      return { value: fresh, status: "stale", syncFetch: true, age: 0, refreshScheduled: false, background };
    } catch (error) {
      // The source failed: serve what we have rather than an error page, and retry in the background.
      ctx.events.emit("refresh-failed", { key: keys.entry, job: name, error, sync: true });
      const age = entryAgeSeconds(entry, ctx.now());
      ctx.events.emit("stale", { key: keys.entry, age, syncFetch: false });
      const background = deps.scheduler.request(request, "stale");
      return { value: value as T, status: "stale", syncFetch: false, age, refreshScheduled: true, background };
    }
  }

  // Miss (absent, expired, unreadable, or the store is down).
  if (options.fetchOnMiss === false && !readFailed) {
    ctx.events.emit("miss", { key: keys.entry, syncFetch: false });
    const background = deps.scheduler.request(request, "miss");
    return { value: (options.empty ?? null) as T, status: "miss", syncFetch: false, age: null, refreshScheduled: true, background };
  }
  ctx.events.emit("miss", { key: keys.entry, syncFetch: true });
  const { value: fetched, background } = await deps.sync.run<T>(keys, name, args, fn, opts, serializer);
  return { value: fetched, status: "miss", syncFetch: true, age: 0, refreshScheduled: false, background };
}
