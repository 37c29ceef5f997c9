import type { StatusReason } from "./core/decide.js";

/** What a read found, as reported in events and in {@link CachebackResult}. */
export type CacheStatus = "hit" | "stale" | "miss";

/** Every event an instance emits, by type. Subscribe with `cacheback.on(type, listener)`. */
export interface CachebackEvents {
  /** A fresh entry was served (`memory`: from this process's copy, with no Redis command). */
  hit: { key: string; age: number; memory?: true };
  /** A stale entry was served (or, past `fetchOnStaleThreshold`, refreshed synchronously). */
  stale: { key: string; age: number; syncFetch: boolean; reason: StatusReason; tag?: string; memory?: true };
  /** No usable entry: fetched synchronously (`syncFetch`) or answered with `empty`. */
  miss: { key: string; syncFetch: boolean; reason: StatusReason; tag?: string };
  /** This instance won the refresh lock and handed the refresh to the queue, in a message of `batch` refreshes. */
  "refresh-queued": { key: string; job: string; messageId: string; reason: "stale" | "miss" | "invalidate"; batch: number };
  /**
   * Publishing failed (`publish-failed`), or is paused after failures (`queue-paused`): this instance,
   * which holds the refresh lock, runs the refresh itself (then `refresh-done` or `refresh-failed`).
   */
  "refresh-fallback": { key: string; job: string; reason: "publish-failed" | "queue-paused"; error: unknown };
  /** A refresh ran its fetcher; `written` is false when a newer entry was already stored. */
  "refresh-done": { key: string; job: string; durationMs: number; written: boolean; sync: boolean };
  /** A refresh's fetcher threw, timed out or returned a value that cannot be stored. The old entry stays. */
  "refresh-failed": { key: string; job: string; error: unknown; sync: boolean };
  /** Tags were invalidated (`revalidateTag`: `stale`; `updateTag`: `expire`) at `version` of the shared clock. */
  "tags-invalidated": { tags: string[]; kind: "stale" | "expire"; version: number };
  /** A store or queue fault the read survived (it served a cached or freshly fetched value instead). */
  error: { key?: string; operation: "read" | "write" | "lock" | "unlock" | "publish" | "invalidate" | "delete"; error: unknown };
}

/** Name of an event type. */
export type CachebackEventType = keyof CachebackEvents;

/** One event, tagged with its type. */
export type CachebackEvent = { [K in CachebackEventType]: { type: K } & CachebackEvents[K] }[CachebackEventType];

type Listener = (event: CachebackEvent) => void;

/** A small synchronous emitter; a listener that throws never breaks a read. */
export class EventHub {
  readonly #byType = new Map<string, Set<Listener>>();
  /** Listeners of every type together: while there are none, {@link wants} answers without a lookup. */
  #listeners = 0;
  #debug: ((event: CachebackEvent) => void) | undefined;

  constructor(debug?: (event: CachebackEvent) => void) {
    this.#debug = debug;
  }

  /** Subscribes to one event type, or to all with `"*"`. Returns the unsubscribe function. */
  on<K extends CachebackEventType | "*">(
    type: K,
    listener: (event: K extends CachebackEventType ? { type: K } & CachebackEvents[K] : CachebackEvent) => void,
  ): () => void {
    let set = this.#byType.get(type);
    if (!set) this.#byType.set(type, (set = new Set()));
    if (!set.has(listener as Listener)) {
      set.add(listener as Listener);
      this.#listeners++;
    }
    return () => {
      if (set.delete(listener as Listener)) this.#listeners--;
    };
  }

  /** True when someone listens for `type` (so callers can skip building the event). */
  wants(type: CachebackEventType): boolean {
    if (this.#debug !== undefined) return true;
    return this.#listeners > 0 && ((this.#byType.get(type)?.size ?? 0) > 0 || (this.#byType.get("*")?.size ?? 0) > 0);
  }

  emit<K extends CachebackEventType>(type: K, payload: CachebackEvents[K]): void {
    if (!this.wants(type)) return;
    const event = { type, ...payload } as CachebackEvent;
    this.#debug?.(event);
    for (const set of [this.#byType.get(type), this.#byType.get("*")]) {
      if (!set) continue;
      for (const listener of set) {
        try {
          listener(event);
        } catch (error) {
          console.error(`[next-cacheback] an event listener for "${type}" threw`, error);
        }
      }
    }
  }
}
