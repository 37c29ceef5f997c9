import { CachebackTimeoutError } from "../errors.js";
import { entryKeys, tagKey, type EntryKeys } from "../keys.js";
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

  // At-least-once delivery: a message whose refresh already happened (the entry is fresh and its data
  // was taken after the message was queued) does not run the fetcher again.
  let start: Start;
  try {
    start = await begin(ctx, keys, tags);
  } catch (error) {
    return failed("store", error);
  }
  if (start.fresh && start.storedVersion >= versionAt(message.queuedAt)) {
    await store.releaseLock(keys.lock, message.lock).catch(() => false);
    return { ok: true, status: "skipped-fresh", key: keys.entry, durationMs: 0, tags };
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
    raw = encodeEntry(keys.entry, value, serializer, opts, start.version, ctx.now(), tags);
  } catch (error) {
    return failed("serialize", error);
  }
  let written: boolean;
  try {
    written = await withTimeout(store.setIfNotNewer(keys.entry, raw, start.version, opts.ttl * 1000), settings.backgroundTimeoutMs, () => `write of ${keys.entry}`);
  } catch (error) {
    return failed("store", error);
  }
  await store.releaseLock(keys.lock, message.lock).catch((error: unknown) => ctx.report.error("unlock", keys.entry, error));
  const durationMs = ctx.now() - startedAt;
  events.emit("refresh-done", { key: keys.entry, job: message.job, durationMs, written, sync: false });
  return { ok: true, status: written ? "written" : "skipped-newer", key: keys.entry, durationMs, tags };
}

/** What a refresh learns before it runs the job. */
interface Start {
  /** The version the data about to be taken gets. */
  version: number;
  /** Whether the stored entry is fresh (its tags included). */
  fresh: boolean;
  /** The stored entry's version (0 when there is none). */
  storedVersion: number;
}

/**
 * The refresh's first round trip: the stored entry (and, for a tagged entry, its stamps and a version
 * from the shared clock, in the same script); an untagged entry's version comes from this process.
 */
async function begin(ctx: CoreContext, keys: EntryKeys, tags: readonly string[]): Promise<Start> {
  const { store, settings } = ctx;
  const timeout = () => `read of ${keys.entry}`;
  if (tags.length === 0) {
    const version = settings.versions.next();
    const current = await withTimeout(store.get(keys.entry), settings.backgroundTimeoutMs, timeout);
    const entry = typeof current === "object" && current !== null ? current : undefined;
    return { version, fresh: decide(entry, undefined, ctx.now()).state === "fresh", storedVersion: entry?.version ?? 0 };
  }
  const stampKeys = tags.map((tag) => tagKey(settings.prefix, tag));
  const read = await withTimeout(store.nextVersion(clockRequest(ctx), { key: keys.entry, stampKeys }), settings.backgroundTimeoutMs, timeout);
  const entry = typeof read.entry === "object" && read.entry !== null ? read.entry : undefined;
  const verdict = entry ? tagVerdict(entry.version, tags, read.stamps, ctx.now()) : undefined;
  return { version: read.version, fresh: decide(entry, verdict, ctx.now()).state === "fresh", storedVersion: entry?.version ?? 0 };
}

/** Releases a message's refresh lock (the refresh route does this when a message can never succeed). */
export async function releaseLockFor(ctx: CoreContext, message: RefreshMessage): Promise<void> {
  const keys = entryKeys(ctx.settings.prefix, message.job, message.args);
  await ctx.store.releaseLock(keys.lock, message.lock).catch(() => false);
}
