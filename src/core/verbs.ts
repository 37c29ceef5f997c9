import { entryAgeSeconds, entryState } from "../entry.js";
import { entryKeys, splitKey, type CacheKey, type EntryKeys } from "../keys.js";
import { resolveRefreshOptions, type RefreshOptions } from "../options.js";
import { jsonSerializer, type Serializer } from "../serializer.js";
import type { CoreContext } from "./context.js";
import { encodeEntry } from "./encode.js";
import type { InvalidateResult, PeekResult } from "./results.js";
import type { RefreshScheduler } from "./scheduler.js";

/** The Redis keys of an entry given as a cache key. */
export function keysOf(ctx: CoreContext, key: CacheKey): { name: string; args: unknown[]; keys: EntryKeys } {
  const { name, args } = splitKey(key);
  return { name, args, keys: entryKeys(ctx.settings.prefix, name, args) };
}

/**
 * Marks an entry stale and queues a refresh at once, whoever holds the refresh lock. Without a
 * `lifetime` option the refreshed entry keeps the lifetime it was written with.
 */
export async function invalidate(ctx: CoreContext, scheduler: RefreshScheduler, key: CacheKey, options?: RefreshOptions): Promise<InvalidateResult> {
  const { name, args, keys } = keysOf(ctx, key);
  let kept: RefreshOptions | undefined;
  if (options?.lifetime === undefined) {
    const current = await ctx.store.get(keys.entry);
    if (typeof current === "object" && current !== null && current.freshUntil > current.writtenAt) {
      kept = { lifetime: (current.freshUntil - current.writtenAt) / 1000 };
    }
  }
  const opts = resolveRefreshOptions(ctx.settings.defaults, kept, options);
  const at = ctx.now();
  const marked = await ctx.store.markStale(keys.entry, ctx.settings.versions.next());
  const token = crypto.randomUUID();
  await ctx.store.forceLock(keys.lock, token, opts.refreshTimeout * 1000);
  try {
    const messageId = await scheduler.publish({ keys, job: name, args, options: opts }, token, at, "invalidate");
    return { marked, messageId };
  } catch (error) {
    await ctx.store.releaseLock(keys.lock, token).catch(() => false);
    throw error;
  }
}

/** Removes an entry (and its refresh lock). The next read is a miss. */
export async function remove(ctx: CoreContext, key: CacheKey): Promise<void> {
  const { keys } = keysOf(ctx, key);
  await ctx.store.delete(keys.entry, keys.lock);
}

/** Writes a value by hand, fresh for `lifetime`. It wins over any refresh that began before it. */
export async function set<T>(ctx: CoreContext, key: CacheKey, value: T, options?: RefreshOptions & { serializer?: Serializer<T> }): Promise<void> {
  const { keys } = keysOf(ctx, key);
  const opts = resolveRefreshOptions(ctx.settings.defaults, options);
  const serializer = options?.serializer ?? (jsonSerializer as Serializer<T>);
  const raw = encodeEntry(keys.entry, value, serializer, opts, ctx.settings.versions.next(), ctx.now());
  await ctx.store.set(keys.entry, raw, opts.ttl * 1000);
}

/** Reads the stored entry with its status and age; no fetch, no refresh, no events. */
export async function peek<T>(ctx: CoreContext, key: CacheKey, options?: { serializer?: Serializer<T> }): Promise<PeekResult<T>> {
  const { keys } = keysOf(ctx, key);
  const stored = await ctx.store.get(keys.entry);
  const missing: PeekResult<T> = { status: "miss", value: undefined, age: null, writtenAt: null, freshUntil: null, corrupt: false };
  if (stored === null) return missing;
  if (stored === "unreadable") return { ...missing, corrupt: true };
  let value: T;
  try {
    value = (options?.serializer ?? (jsonSerializer as Serializer<T>)).deserialize(stored.data);
  } catch {
    return { ...missing, corrupt: true };
  }
  const now = ctx.now();
  return {
    status: entryState(stored, now) === "fresh" ? "hit" : "stale",
    value,
    age: entryAgeSeconds(stored, now),
    writtenAt: stored.writtenAt,
    freshUntil: stored.freshUntil,
    corrupt: false,
  };
}
