import { HashNotReadyError, hashReady } from "../hash.js";
import { entryAgeSeconds, type StoredEntry } from "../entry.js";
import { entryKeys, splitKey, type CacheKey } from "../keys.js";
import type { FetchOptions } from "../options.js";
import { jsonSerializer, type Serializer } from "../serializer.js";
import type { LookupPlan } from "./lookup.js";
import { planRead } from "./plan.js";
import { requestMemoRead } from "./request-memo.js";
import { SETTLED } from "./request.js";
import type { Copy } from "./memory-tier.js";
import type { serve as SlowPath } from "./read-slow.js";
import { FAILED, type Read, type ReadDeps } from "./read-types.js";

export type { ReadDeps } from "./read-types.js";
import type { CachebackResult } from "./results.js";
import type { Fetcher } from "./sync-fetch.js";
import type { SpanRef } from "../telemetry/types.js";

const NO_OPTIONS: FetchOptions<unknown> = Object.freeze({});

// Everything but a fresh hit (the decision, stale and miss handling) loads with the first read that needs it.
let slow: Promise<typeof SlowPath> | undefined;
function serve<T>(r: Read<T>, stored: StoredEntry | Copy | typeof FAILED | undefined, valueOnly: boolean): Promise<unknown> {
  slow ??= import("./read-slow.js").then((m) => m.serve);
  return slow.then((slowServe) => slowServe(r, stored, valueOnly));
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
export function read<T>(deps: ReadDeps, key: CacheKey, fn: Fetcher, options?: FetchOptions<T>, valueOnly?: false, span?: SpanRef): Promise<CachebackResult<T>>;
export function read<T>(deps: ReadDeps, key: CacheKey, fn: Fetcher, options: FetchOptions<T> | undefined, valueOnly: true, span?: SpanRef): Promise<T>;
export function read<T>(
  deps: ReadDeps,
  key: CacheKey,
  fn: Fetcher,
  options: FetchOptions<T> = NO_OPTIONS as FetchOptions<T>,
  valueOnly = false,
  span?: SpanRef,
): Promise<unknown> {
  // With OpenTelemetry on, the read runs again inside its span (`span` set), and its telemetry records it.
  const { tel, telReady } = deps.ctx;
  if (span === undefined) {
    if (tel) return tel.read(key, valueOnly, (s) => read(deps, key, fn, options, false, s));
    if (telReady) return telReady.then(() => read(deps, key, fn, options, valueOnly as true));
  }
  let r: Read<T>;
  try {
    const { ctx } = deps;
    const { name, args } = splitKey(key);
    const keys = entryKeys(ctx.settings.prefix, name, args);
    const { opts, tags, memory } = planRead(deps.plans, ctx.settings, options as FetchOptions<unknown>, args, keys.entry);
    const serializer = (options.serializer ?? jsonSerializer) as Serializer<T>;
    const plan: LookupPlan = { keys, tags, timeoutMs: ctx.settings.readTimeoutMs, memo: true };
    r = { deps, keys, name, args, fn, options, opts, tags, memory, serializer, plan, span };
  } catch (error) {
    // Long arguments are hashed; outside Node.js the hash loads at start-up: a read that came first waits for it.
    if (error instanceof HashNotReadyError) return hashReady().then(() => read(deps, key, fn, options, valueOnly as true, span));
    return Promise.reject(error);
  }
  if (r.memory) {
    const copy = deps.ctx.memory.get(r.name, r.keys.entry, deps.ctx.now());
    // A stale copy (or a fresh one past its entry's lifetime) is served stale, with its refresh asked for.
    if (copy && (copy.stale || deps.ctx.now() >= copy.entry.freshUntil)) return serve(r, copy, valueOnly);
    const hit = copy && freshHit(r, copy.entry, true);
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
    const stored = r.memory
      ? ctx.memory.coalesce(r.keys.entry, () => requestMemoRead(ctx.store, r.keys.entry, ctx.settings.requestMemo))
      : requestMemoRead(ctx.store, r.keys.entry, ctx.settings.requestMemo);
    stored.then(
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

