import type { Serializer } from "../serializer.js";
import { withTimeout } from "../timeout.js";
import { clockRequest } from "./clock.js";
import type { CoreContext } from "./context.js";
import { encodeEntry } from "./encode.js";
import type { RefreshRequest } from "./request.js";

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

  run<T>(request: RefreshRequest, fn: Fetcher, serializer: Serializer<T>): Promise<Fetched<T>> {
    const key = request.keys.entry;
    const existing = this.#inflight.get(key) as Promise<Fetched<T>> | undefined;
    if (existing) return existing;
    const run = this.#fetchAndStore(request, fn, serializer);
    this.#inflight.set(key, run);
    run.catch(() => this.#inflight.delete(key));
    return run;
  }

  /**
   * The version the data about to be taken gets: this process's clock for an untagged entry; the
   * store's shared clock for a tagged one (one more round trip before the fetch, so that a tag
   * invalidation on any instance is ordered against it), or this process's clock when the store fails.
   */
  async #version(request: RefreshRequest): Promise<number> {
    const ctx = this.#ctx;
    if (request.tags.length === 0) return ctx.settings.versions.next();
    try {
      const { version } = await withTimeout(ctx.store.nextVersion(clockRequest(ctx)), ctx.settings.readTimeoutMs, () => `version for ${request.keys.entry}`);
      return version;
    } catch (error) {
      ctx.report.error("read", request.keys.entry, error);
      return ctx.settings.versions.next();
    }
  }

  async #fetchAndStore<T>(request: RefreshRequest, fn: Fetcher, serializer: Serializer<T>): Promise<Fetched<T>> {
    const { store, settings, events, report } = this.#ctx;
    const { keys, job, args, options, tags } = request;
    const startedAt = this.#ctx.now();
    const version = await this.#version(request);
    const tel = this.#ctx.tel;
    const jobStart = performance.now();
    let value: T;
    let raw: string;
    try {
      value = (await fn(...(args as never[]))) as T;
    } catch (error) {
      tel?.job(job, "read", (performance.now() - jobStart) / 1000, error);
      tel?.refreshed(job, { outcome: "failed", phase: "fetch", error });
      throw error;
    }
    tel?.job(job, "read", (performance.now() - jobStart) / 1000);
    try {
      raw = encodeEntry(keys.entry, value, serializer, options, version, this.#ctx.now(), tags);
    } catch (error) {
      tel?.refreshed(job, { outcome: "failed", phase: "serialize", error });
      throw error;
    }
    const durationMs = this.#ctx.now() - startedAt;
    const write = withTimeout(store.setIfNotNewer(keys.entry, raw, version, options.ttl * 1000), settings.backgroundTimeoutMs, () => `write of ${keys.entry}`).then(
      (written) => {
        if (written) this.#ctx.memory.forget(keys.entry);
        events.emit("refresh-done", { key: keys.entry, job, durationMs, written, sync: true });
        tel?.refreshed(job, { outcome: written ? "written" : "skipped-newer" });
      },
      (error: unknown) => {
        report.error("write", keys.entry, error);
        tel?.refreshed(job, { outcome: "failed", phase: "store", error });
      },
    );
    // Later readers in this process join the in-flight call until the write has landed.
    void write.finally(() => this.#inflight.delete(keys.entry));
    return { value, background: settings.runInBackground(() => write) };
  }
}
