import { entryState } from "../entry.js";
import { CachebackTimeoutError } from "../errors.js";
import { entryKeys } from "../keys.js";
import type { RefreshMessage } from "../message.js";
import { resolveRefreshOptions, type FetchOptions, type ResolvedRefreshOptions } from "../options.js";
import { jsonSerializer } from "../serializer.js";
import { withTimeout } from "../timeout.js";
import { versionAt } from "../version-clock.js";
import type { CoreContext } from "./context.js";
import { encodeEntry } from "./encode.js";
import type { RefreshFailure, RefreshOutcome } from "./results.js";
import type { Fetcher } from "./sync-fetch.js";

/**
 * Refresh running: what the refresh route does with one delivered message. Calls the fetcher and writes
 * the entry unless a newer one (a later `set`, `invalidate` or refresh) is stored. Never throws: the
 * outcome says what failed, and in which phase.
 */
export async function runRefresh(ctx: CoreContext, message: RefreshMessage, fn: Fetcher, jobOptions: FetchOptions<unknown> | undefined): Promise<RefreshOutcome> {
  const { store, settings, events } = ctx;
  const keys = entryKeys(settings.prefix, message.job, message.args);
  const serializer = jobOptions?.serializer ?? jsonSerializer;
  const startedAt = ctx.now();
  const version = settings.versions.next();
  const failed = (phase: RefreshFailure["phase"], error: unknown): RefreshFailure => {
    events.emit("refresh-failed", { key: keys.entry, job: message.job, error, sync: false });
    return { ok: false, phase, key: keys.entry, error };
  };
  let opts: ResolvedRefreshOptions;
  try {
    opts = resolveRefreshOptions(settings.defaults, jobOptions, message.options);
  } catch (error) {
    return failed("options", error);
  }

  // At-least-once delivery: a message whose refresh already happened (the entry is fresh and its data
  // was taken after the message was queued) does not run the fetcher again.
  let current;
  try {
    current = await withTimeout(store.get(keys.entry), settings.backgroundTimeoutMs, () => `read of ${keys.entry}`);
  } catch (error) {
    return failed("store", error);
  }
  if (typeof current === "object" && current !== null && entryState(current, startedAt) === "fresh" && current.version >= versionAt(message.queuedAt)) {
    await store.releaseLock(keys.lock, message.lock).catch(() => false);
    return { ok: true, status: "skipped-fresh", key: keys.entry, durationMs: 0 };
  }

  let value: unknown;
  try {
    value = await withTimeout(
      Promise.resolve().then(() => fn(...(message.args as never[]))),
      opts.refreshTimeout * 1000,
      () => `job "${message.job}"`,
    );
  } catch (error) {
    return failed(error instanceof CachebackTimeoutError ? "timeout" : "fetch", error);
  }
  let raw: string;
  try {
    raw = encodeEntry(keys.entry, value, serializer, opts, version, ctx.now());
  } catch (error) {
    return failed("serialize", error);
  }
  let written: boolean;
  try {
    written = await withTimeout(store.setIfNotNewer(keys.entry, raw, version, opts.ttl * 1000), settings.backgroundTimeoutMs, () => `write of ${keys.entry}`);
  } catch (error) {
    return failed("store", error);
  }
  await store.releaseLock(keys.lock, message.lock).catch((error: unknown) => ctx.report.error("unlock", keys.entry, error));
  const durationMs = ctx.now() - startedAt;
  events.emit("refresh-done", { key: keys.entry, job: message.job, durationMs, written, sync: false });
  return { ok: true, status: written ? "written" : "skipped-newer", key: keys.entry, durationMs };
}

/** Releases a message's refresh lock (the refresh route does this when a message can never succeed). */
export async function releaseLockFor(ctx: CoreContext, message: RefreshMessage): Promise<void> {
  const keys = entryKeys(ctx.settings.prefix, message.job, message.args);
  await ctx.store.releaseLock(keys.lock, message.lock).catch(() => false);
}
