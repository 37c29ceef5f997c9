import { entryAgeSeconds, type StoredEntry } from "../entry.js";
import type { FetchOptions } from "../options.js";
import { decide, type ReadState } from "./decide.js";
import { lookup, settle, type Lookup, type LookupPlan } from "./lookup.js";
import type { Copy } from "./memory-tier.js";
import { FAILED, type Read } from "./read-types.js";
import { SETTLED, type RefreshRequest } from "./request.js";
import { schedulerOf } from "./scheduler.js";
import type { CachebackResult } from "./results.js";

const STORE_ERROR: ReadState = Object.freeze({ state: "miss", reason: "store-error" });
const UNREADABLE: ReadState = Object.freeze({ state: "miss", reason: "unreadable" });

/**
 * The rest of a read: looks the entry up (unless `stored` is what the lean path read, a copy from this
 * process's memory, or `FAILED`), decides, and serves.
 */
export async function serve<T>(r: Read<T>, stored: StoredEntry | Copy | typeof FAILED | undefined, valueOnly: boolean): Promise<unknown> {
  const result = await decideAndServe(r, stored);
  return valueOnly ? result.value : result;
}

function lookupPlan<T>(r: Read<T>): LookupPlan {
  return { keys: r.keys, tags: r.tags, timeoutMs: r.deps.ctx.settings.readTimeoutMs, memo: true };
}

function isCopy(stored: unknown): stored is Copy {
  return typeof stored === "object" && stored !== null && "until" in stored && "entry" in stored;
}

async function decideAndServe<T>(r: Read<T>, stored: StoredEntry | Copy | typeof FAILED | undefined): Promise<CachebackResult<T>> {
  const { deps, keys, name, args, fn, options, opts, tags, serializer } = r;
  const { ctx } = deps;
  const copy = isCopy(stored) ? stored : undefined;
  let found: Lookup | undefined;
  try {
    if (copy) {
      // A copy in memory, of an entry Redis held stale (or that turned stale since): served stale.
      found = { entry: copy.entry, unreadable: false, verdict: copy.stale?.tag ? { kind: "stale", tag: copy.stale.tag } : undefined };
    } else if (stored === undefined) {
      if (tags.length > 0) await ctx.settings.onTaggedRead?.(tags);
      found = await lookup(ctx, lookupPlan(r));
    } else if (stored !== FAILED) {
      found = await settle(ctx, lookupPlan(r), stored as StoredEntry, undefined);
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

  // The refresh carries the read's trace context, so that its span is the read's child wherever it runs.
  const request: RefreshRequest = { keys, job: name, args, options: opts, tags, fn, readOptions: options as FetchOptions<unknown>, trace: ctx.tel?.carrier(r.span) };
  if (entry && decision.state === "stale") {
    const age = entryAgeSeconds(entry, now);
    if (r.memory && !copy) ctx.memory.remember(name, keys.entry, entry, tags, now, r.memory, { reason, tag });
    ctx.events.emit("stale", copy ? { key: keys.entry, age, syncFetch: false, reason, tag, memory: true } : { key: keys.entry, age, syncFetch: false, reason, tag });
    // A copy's refresh is asked for once: the copy's later reads know it is on its way.
    const background = copy?.asked ? SETTLED : schedulerOf(deps).request(request, "stale");
    if (copy) copy.asked = true;
    const result: CachebackResult<T> = { value: value as T, status: "stale", reason, tag, syncFetch: false, age, refreshScheduled: true, background };
    if (copy) result.fromMemory = true;
    return result;
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
      const background = schedulerOf(deps).request(request, "stale");
      return { value: value as T, status: "stale", reason, tag, syncFetch: false, age, refreshScheduled: true, background };
    }
  }

  // Miss: absent, expired by a tag, unreadable, or the store is down.
  if (options.fetchOnMiss === false && reason !== "store-error") {
    ctx.events.emit("miss", { key: keys.entry, syncFetch: false, reason, tag });
    const background = schedulerOf(deps).request(request, "miss");
    return { value: (options.empty ?? null) as T, status: "miss", reason, tag, syncFetch: false, age: null, refreshScheduled: true, background };
  }
  ctx.events.emit("miss", { key: keys.entry, syncFetch: true, reason, tag });
  const { value: fetched, background } = await (await deps.sync()).run<T>(request, fn, serializer);
  return { value: fetched, status: "miss", reason, tag, syncFetch: true, age: 0, refreshScheduled: false, background };
}
