import { CachebackTimeoutError } from "../errors.js";
import { doneKey, entryKeys, tagKey, type EntryKeys } from "../keys.js";
import type { RefreshMessage } from "../message.js";
import type { FetchOptions, ResolvedRefreshOptions } from "../options.js";
import { jsonSerializer } from "../serializer.js";
import { tagVerdict } from "../tags/stamps.js";
import { entryTags } from "../tags/tags.js";
import { withTimeout } from "../timeout.js";
import { versionAt } from "../version-clock.js";
import { clockRequest } from "./clock.js";
import type { CoreContext } from "./context.js";
import { decide } from "./decide.js";
import { encodeEntry } from "./encode.js";
import { resolveOptions } from "./settings.js";
import type { RefreshFailure, RefreshOutcome } from "./results.js";
import type { Fetcher } from "./sync-fetch.js";
import type { RefreshRecord } from "../telemetry/types.js";

export { routeEndpoint } from "./endpoint.js";

/**
 * Refresh running: what the refresh route does with one delivered refresh (and this process, when the
 * queue fails). Calls the fetcher and writes
 * the entry unless a newer one (a later `set`, `invalidate` or refresh) is stored. Never throws: the
 * outcome says what failed, and in which phase.
 */
export async function runRefresh(
  ctx: CoreContext,
  message: RefreshMessage,
  fn: Fetcher,
  jobOptions: FetchOptions<unknown> | undefined,
  origin: "route" | "fallback" = "route",
): Promise<RefreshOutcome> {
  const { store, settings, events } = ctx;
  const keys = entryKeys(settings.prefix, message.job, message.args);
  const serializer = jobOptions?.serializer ?? jsonSerializer;
  const startedAt = ctx.now();
  const failed = (phase: RefreshFailure["phase"], error: unknown): RefreshFailure => {
    events.emit("refresh-failed", { key: keys.entry, job: message.job, error, sync: false });
    return { ok: false, phase, key: keys.entry, error };
  };
  let opts: ResolvedRefreshOptions;
  let tags: readonly string[];
  try {
    opts = resolveOptions(settings, jobOptions, message.options);
    // A message of an earlier version carries no tags: the job's options say what they are.
    tags = message.tags ?? entryTags([settings.defaultTags, jobOptions?.tags], message.args, keys.entry);
  } catch (error) {
    return failed("options", error);
  }

  // At-least-once delivery: a redelivered message whose refresh completed does not run the job again
  // (its completion is marked per lock token for QStash's whole retry horizon); nor does one whose entry
  // is fresh with data taken after it was queued.
  let start: Start;
  try {
    start = await begin(ctx, keys, tags, message.lock);
  } catch (error) {
    return failed("store", error);
  }
  if (start.fresh && start.storedVersion >= versionAt(message.queuedAt)) {
    await store.releaseLock(keys.lock, message.lock).catch(() => false);
    return { ok: true, status: "skipped-fresh", key: keys.entry, durationMs: 0, tags };
  }
  if (start.done) return { ok: true, status: "skipped-done", key: keys.entry, durationMs: 0, tags };

  let value: unknown;
  const jobStart = performance.now();
  try {
    value = await withTimeout(
      Promise.resolve().then(() => fn(...(message.args as never[]))),
      opts.refreshTimeout * 1000,
      () => `job "${message.job}"`,
    );
  } catch (error) {
    ctx.tel?.job(message.job, origin, (performance.now() - jobStart) / 1000, error);
    return failed(error instanceof CachebackTimeoutError ? "timeout" : "fetch", error);
  }
  ctx.tel?.job(message.job, origin, (performance.now() - jobStart) / 1000);
  let raw: string;
  try {
    raw = encodeEntry(keys.entry, value, serializer, opts, start.version, ctx.now(), tags);
  } catch (error) {
    return failed("serialize", error);
  }
  let written: boolean;
  try {
    written = await withTimeout(
      store.finishRefresh(
        { key: keys.entry, entry: raw, version: start.version, ttlMs: opts.ttl * 1000 },
        { key: doneKey(settings.prefix, message.lock), ttlMs: settings.completionTtlMs },
        { key: keys.lock, token: message.lock },
      ),
      settings.backgroundTimeoutMs,
      () => `write of ${keys.entry}`,
    );
  } catch (error) {
    return failed("store", error);
  }
  if (written) ctx.memory.forget(keys.entry);
  const durationMs = ctx.now() - startedAt;
  events.emit("refresh-done", { key: keys.entry, job: message.job, durationMs, written, sync: false });
  return { ok: true, status: written ? "written" : "skipped-newer", key: keys.entry, durationMs, tags };
}

/** What a refresh's outcome tells its span and its metrics. */
export function recordOf(outcome: RefreshOutcome): RefreshRecord {
  return outcome.ok ? { outcome: outcome.status } : { outcome: "failed", phase: outcome.phase, error: outcome.error };
}

/** What a refresh learns before it runs the job. */
interface Start {
  /** The version the data about to be taken gets. */
  version: number;
  /** A refresh with this lock token already completed. */
  done: boolean;
  /** Whether the stored entry is fresh (its tags included). */
  fresh: boolean;
  /** The stored entry's version (0 when there is none). */
  storedVersion: number;
}

/**
 * The refresh's first round trip: the stored entry, its stamps and the completion mark of this lock token
 * (and, for a tagged entry, a version from the shared clock, in the same script); an untagged entry's
 * version comes from this process, taken before the read.
 */
async function begin(ctx: CoreContext, keys: EntryKeys, tags: readonly string[], token: string): Promise<Start> {
  const { store, settings } = ctx;
  const local = tags.length === 0 ? settings.versions.next() : undefined;
  const read = await withTimeout(
    store.startRefresh(
      { key: keys.entry, stampKeys: tags.map((tag) => tagKey(settings.prefix, tag)), doneKey: doneKey(settings.prefix, token) },
      local === undefined ? clockRequest(ctx) : undefined,
    ),
    settings.backgroundTimeoutMs,
    () => `read of ${keys.entry}`,
  );
  const entry = typeof read.entry === "object" && read.entry !== null ? read.entry : undefined;
  const verdict = entry && tags.length > 0 ? tagVerdict(entry.version, tags, read.stamps, ctx.now()) : undefined;
  return {
    version: local ?? read.version ?? settings.versions.next(),
    done: read.done,
    fresh: decide(entry, verdict, ctx.now()).state === "fresh",
    storedVersion: entry?.version ?? 0,
  };
}

/** Releases a message's refresh lock (the refresh route does this when a message can never succeed). */
export async function releaseLockFor(ctx: CoreContext, message: RefreshMessage): Promise<void> {
  const keys = entryKeys(ctx.settings.prefix, message.job, message.args);
  await ctx.store.releaseLock(keys.lock, message.lock).catch(() => false);
}
