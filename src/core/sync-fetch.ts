import type { EntryKeys } from "../keys.js";
import type { ResolvedRefreshOptions } from "../options.js";
import type { Serializer } from "../serializer.js";
import { withTimeout } from "../timeout.js";
import type { CoreContext } from "./context.js";
import { encodeEntry } from "./encode.js";

/** A fetcher of any arguments. */
export type Fetcher = (...args: never[]) => unknown;

/** A value fetched during a read, and the write-back that follows it. */
export interface Fetched<T> {
  value: T;
  background: Promise<void>;
}

/**
 * Synchronous fetches on a miss (or past `fetchOnStaleThreshold`): one fetcher call per key per process
 * however many readers arrive together, and a write-back that never delays the reader.
 */
export class SyncFetcher {
  readonly #ctx: CoreContext;
  readonly #inflight = new Map<string, Promise<Fetched<unknown>>>();

  constructor(ctx: CoreContext) {
    this.#ctx = ctx;
  }

  run<T>(keys: EntryKeys, job: string, args: readonly unknown[], fn: Fetcher, opts: ResolvedRefreshOptions, serializer: Serializer<T>): Promise<Fetched<T>> {
    const existing = this.#inflight.get(keys.entry) as Promise<Fetched<T>> | undefined;
    if (existing) return existing;
    const run = this.#fetchAndStore(keys, job, args, fn, opts, serializer);
    this.#inflight.set(keys.entry, run);
    run.catch(() => this.#inflight.delete(keys.entry));
    return run;
  }

  async #fetchAndStore<T>(
    keys: EntryKeys,
    job: string,
    args: readonly unknown[],
    fn: Fetcher,
    opts: ResolvedRefreshOptions,
    serializer: Serializer<T>,
  ): Promise<Fetched<T>> {
    const { store, settings, events, report } = this.#ctx;
    const startedAt = this.#ctx.now();
    const version = settings.versions.next();
    const value = (await fn(...(args as never[]))) as T;
    const raw = encodeEntry(keys.entry, value, serializer, opts, version, this.#ctx.now());
    const durationMs = this.#ctx.now() - startedAt;
    const write = withTimeout(store.setIfNotNewer(keys.entry, raw, version, opts.ttl * 1000), settings.backgroundTimeoutMs, () => `write of ${keys.entry}`).then(
      (written) => events.emit("refresh-done", { key: keys.entry, job, durationMs, written, sync: true }),
      (error: unknown) => report.error("write", keys.entry, error),
    );
    // Later readers in this process join the in-flight call until the write has landed.
    void write.finally(() => this.#inflight.delete(keys.entry));
    return { value, background: settings.runInBackground(() => write) };
  }
}
