import { entryAgeSeconds } from "../entry.js";
import { keyParts, tagKey, type CacheKey } from "../keys.js";
import type { RefreshOptions } from "../options.js";
import { jsonSerializer, type Serializer } from "../serializer.js";
import { tagVerdict } from "../tags/stamps.js";
import { entryTags, type TagsOption } from "../tags/tags.js";
import { clockRequest } from "./clock.js";
import type { CoreContext } from "./context.js";
import { decide } from "./decide.js";
import { encodeEntry } from "./encode.js";
import type { InvalidateResult, PeekResult } from "./results.js";
import { schedulerOf, type SchedulerSlot } from "./scheduler.js";
import { resolveOptions } from "./settings.js";

/** Options of the verbs that write: the refresh options, the serializer and the tags of the entry. */
export interface WriteOptions<T = unknown> extends RefreshOptions {
  /** See `FetchOptions.serializer`. */
  serializer?: Serializer<T>;
  /** See `FetchOptions.tags`. */
  tags?: TagsOption<never[]>;
}

/** The version of a write: the shared clock's for a tagged entry (one round trip), this process's otherwise. */
async function writeVersion(ctx: CoreContext, tags: readonly string[]): Promise<number> {
  if (tags.length === 0) return ctx.settings.versions.next();
  return (await ctx.store.nextVersion(clockRequest(ctx))).version;
}

/**
 * Marks an entry stale and queues a refresh at once, whoever holds the refresh lock. Without a
 * `lifetime` option the refreshed entry keeps the lifetime it was written with.
 */
export async function invalidate(ctx: CoreContext, slot: SchedulerSlot, key: CacheKey, options?: WriteOptions): Promise<InvalidateResult> {
  const { name, args, keys } = keyParts(ctx.settings.prefix, key);
  const tags = entryTags([ctx.settings.defaultTags, options?.tags], args, keys.entry);
  let kept: RefreshOptions | undefined;
  if (options?.lifetime === undefined) {
    const current = await ctx.store.get(keys.entry);
    if (typeof current === "object" && current !== null && current.freshUntil > current.writtenAt) {
      kept = { lifetime: (current.freshUntil - current.writtenAt) / 1000 };
    }
  }
  const opts = resolveOptions(ctx.settings, kept, options);
  const at = ctx.now();
  const marked = await ctx.store.markStale(keys.entry, await writeVersion(ctx, tags));
  ctx.memory.forget(keys.entry);
  const token = crypto.randomUUID();
  await ctx.store.forceLock(keys.lock, token, opts.refreshTimeout * 1000);
  try {
    const messageId = await (await schedulerOf(slot).dispatcher()).publishNow({
      // The refresh's span is a child of what was active (a server action's, a route's span).
      request: { keys, job: name, args, options: opts, tags, trace: ctx.tel?.carrier() },
      token,
      queuedAt: at,
      reason: "invalidate",
    });
    return { marked, messageId };
  } catch (error) {
    await ctx.store.releaseLock(keys.lock, token).catch(() => false);
    throw error;
  }
}

/** Removes an entry (and its refresh lock). The next read is a miss. */
export async function remove(ctx: CoreContext, key: CacheKey): Promise<void> {
  const { keys } = keyParts(ctx.settings.prefix, key);
  await ctx.store.delete(keys.entry, keys.lock);
  ctx.memory.forget(keys.entry);
}

/**
 * Writes a value by hand, fresh for `lifetime`. It wins over any refresh that began before it, and a
 * tagged entry written after a tag invalidation is fresh whatever this instance's clock says.
 */
export async function set<T>(ctx: CoreContext, key: CacheKey, value: T, options?: WriteOptions<T>): Promise<void> {
  const { args, keys } = keyParts(ctx.settings.prefix, key);
  const opts = resolveOptions(ctx.settings, options);
  const tags = entryTags([ctx.settings.defaultTags, options?.tags], args, keys.entry);
  const serializer = options?.serializer ?? (jsonSerializer as Serializer<T>);
  const version = await writeVersion(ctx, tags);
  const raw = encodeEntry(keys.entry, value, serializer, opts, version, ctx.now(), tags);
  await ctx.store.set(keys.entry, raw, opts.ttl * 1000);
  ctx.memory.forget(keys.entry);
}

/** Reads the stored entry with its status, age and tags; no fetch, no refresh, no events. */
export async function peek<T>(ctx: CoreContext, key: CacheKey, options?: { serializer?: Serializer<T> }): Promise<PeekResult<T>> {
  const { keys } = keyParts(ctx.settings.prefix, key);
  const stored = await ctx.store.get(keys.entry);
  const missing: PeekResult<T> = { status: "miss", value: undefined, age: null, writtenAt: null, freshUntil: null, corrupt: false, tags: [], invalidatedBy: null };
  if (stored === null) return missing;
  if (stored === "unreadable") return { ...missing, corrupt: true };
  let value: T;
  try {
    value = (options?.serializer ?? (jsonSerializer as Serializer<T>)).deserialize(stored.value);
  } catch {
    return { ...missing, corrupt: true };
  }
  const tags = stored.tags ?? [];
  const stamps = tags.length > 0 ? await ctx.store.getStamps(tags.map((tag) => tagKey(ctx.settings.prefix, tag))) : [];
  const now = ctx.now();
  const verdict = tagVerdict(stored.version, tags, stamps, now);
  const decision = decide(stored, verdict, now);
  return {
    status: decision.state === "fresh" ? "hit" : decision.state === "miss" ? "miss" : "stale",
    value,
    age: entryAgeSeconds(stored, now),
    writtenAt: stored.writtenAt,
    freshUntil: stored.freshUntil,
    corrupt: false,
    tags,
    invalidatedBy: verdict ? { tag: verdict.tag, kind: verdict.kind } : null,
  };
}
