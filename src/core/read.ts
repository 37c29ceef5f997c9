import type { Watched } from "../deadlines.js";
import type { CachebackTimeoutError } from "../errors.js";
import { HashNotReadyError, hashReady } from "../hash.js";
import { entryAgeSeconds, toStoredEntry, type Envelope, type StoredEntry } from "../entry.js";
import type { CacheKey, KeyParts } from "../keys.js";
import type { FetchOptions } from "../options.js";
import { jsonSerializer, type Serializer } from "../serializer.js";
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
 * A fresh hit of an untagged entry, the common case, is kept lean: one `GET` watched by the instance's
 * read deadlines (no timer of its own), and the caller's promise settled straight from the store's answer.
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
  let parts: KeyParts;
  try {
    parts = deps.keys.of(key);
  } catch (error) {
    // Long arguments are hashed; outside Node.js the hash loads at start-up: a read that came first waits for it.
    if (error instanceof HashNotReadyError) return hashReady().then(() => read(deps, key, fn, options, valueOnly as true, span));
    return Promise.reject(error);
  }
  return readParts(deps, parts, fn, options, valueOnly, span);
}

/** {@link read} of a key already taken apart. */
function readParts<T>(deps: ReadDeps, parts: KeyParts, fn: Fetcher, options: FetchOptions<T>, valueOnly: boolean, span: SpanRef | undefined): Promise<unknown> {
  const { ctx } = deps;
  const { name, args, keys } = parts;
  let r: LeanRead<T>;
  try {
    const { opts, tags, memory } = planRead(deps.plans, ctx.settings, options as FetchOptions<unknown>, args, keys.entry);
    const serializer = (options.serializer ?? jsonSerializer) as Serializer<T>;
    r = { deps, keys, name, args, fn, options, opts, tags, memory, serializer, span, valueOnly, resolve: undefined, deadline: 0, over: false, subject: keys.entry, timedOut: readTimedOut };
  } catch (error) {
    // Long arguments are hashed; outside Node.js the hash loads at start-up: a read that came first waits for it.
    if (error instanceof HashNotReadyError) return hashReady().then(() => readParts(deps, parts, fn, options, valueOnly, span));
    return Promise.reject(error);
  }
  if (r.memory) {
    const copy = ctx.memory.get(name, r.keys.entry, ctx.now());
    // A stale copy (or a fresh one past its entry's lifetime) is served stale, with its refresh asked for.
    if (copy && (copy.stale || ctx.now() >= copy.entry.freshUntil)) return serve(r, copy, valueOnly);
    const value = copy ? freshValue(r, copy.entry, true) : NOT_FRESH;
    if (value !== NOT_FRESH) {
      const served = valueOnly ? value : hitResult(r, copy!.entry, value as T, true);
      // Inside a 'use cache' scope the tags still reach the enclosing entry.
      const attach = r.tags.length > 0 ? ctx.settings.onTaggedRead?.(r.tags) : undefined;
      return attach ? Promise.resolve(attach).then(() => served) : Promise.resolve(served);
    }
  }
  if (r.tags.length > 0 || !deps.deadlines.limited) return serve(r, undefined, valueOnly);

  const served = new Promise<unknown>(grabResolve);
  r.resolve = grabbed;
  deps.deadlines.watch(r);
  try {
    const stored = r.memory
      ? ctx.memory.coalesce(r.keys.entry, () => requestMemoRead(ctx.store, r.keys.entry, ctx.settings.requestMemo))
      : requestMemoRead(ctx.store, r.keys.entry, ctx.settings.requestMemo);
    stored.then(
      (entry) => storeAnswered(r, entry),
      (error: unknown) => storeFailed(r, error),
    );
  } catch (error) {
    storeFailed(r, error); // a store that throws instead of rejecting
  }
  return served;
}

/**
 * A read on the lean path: its state, and what the read timeout needs, in one object (the timeout
 * watches it as it is: no timer, closure or handle is made per read).
 */
interface LeanRead<T> extends Read<T>, Watched {
  valueOnly: boolean;
  /** Settles the caller's promise. */
  resolve: ((value: unknown) => void) | undefined;
}

// `new Promise(grabResolve)` hands its resolve function over here, without a closure made per read.
let grabbed: ((value: unknown) => void) | undefined;
function grabResolve(resolve: (value: unknown) => void): void {
  grabbed = resolve;
}

/** The store answered a lean read in time (or late: then the read was served from the fetcher already). */
function storeAnswered<T>(r: LeanRead<T>, raw: unknown): void {
  if (!r.deps.deadlines.done(r)) return;
  const stored = toStoredEntry(raw);
  const value = freshValue(r, stored, false);
  if (value === NOT_FRESH) r.resolve!(serve(r, stored, r.valueOnly));
  else r.resolve!(r.valueOnly ? value : hitResult(r, stored as Envelope, value as T, false));
}

/** The store failed a lean read (unless it had timed out already). */
function storeFailed<T>(r: LeanRead<T>, error: unknown): void {
  if (r.deps.deadlines.done(r)) failOpen(r, error);
}

/** The read timeout passed before the store answered. */
function readTimedOut<T>(this: LeanRead<T>, error: CachebackTimeoutError): void {
  failOpen(this, error);
}

/** Reports what went wrong with the store, and goes on with the read without it (fail open). */
function failOpen<T>(r: LeanRead<T>, error: unknown): void {
  r.deps.ctx.report.error("read", r.keys.entry, error);
  r.resolve!(serve(r, FAILED, r.valueOnly));
}

/** What {@link freshValue} says when the entry needs the full decision. */
const NOT_FRESH: unique symbol = Symbol("not fresh");

/**
 * The value of a fresh entry read from Redis without tags (or, `fromMemory`, a copy in this process's
 * memory, whose tags were checked when it was taken), kept in memory and reported as a hit; or
 * {@link NOT_FRESH} when the entry needs the full decision.
 */
function freshValue<T>(r: Read<T>, stored: StoredEntry, fromMemory: boolean): T | typeof NOT_FRESH {
  if (typeof stored !== "object" || stored === null || (stored.tags !== undefined && !fromMemory)) return NOT_FRESH;
  const { ctx } = r.deps;
  const now = ctx.settings.hitNow();
  if (now >= stored.freshUntil) return NOT_FRESH;
  let value: T;
  try {
    value = r.serializer.deserialize(stored.value);
  } catch {
    return NOT_FRESH; // the full path reports it and treats it as unreadable
  }
  if (!fromMemory && r.memory) ctx.memory.remember(r.name, r.keys.entry, stored, r.tags, now, r.memory);
  if (ctx.events.wants("hit")) {
    const age = entryAgeSeconds(stored, now);
    ctx.events.emit("hit", fromMemory ? { key: r.keys.entry, age, memory: true } : { key: r.keys.entry, age });
  }
  return value;
}

/** The full result of a fresh hit (what `fetchWithStatus` returns). */
function hitResult<T>(r: Read<T>, entry: Envelope, value: T, fromMemory: boolean): CachebackResult<T> {
  const age = entryAgeSeconds(entry, r.deps.ctx.settings.hitNow());
  const result: CachebackResult<T> = { value, status: "hit", reason: "fresh", syncFetch: false, age, refreshScheduled: false, background: SETTLED };
  if (fromMemory) result.fromMemory = true;
  return result;
}

