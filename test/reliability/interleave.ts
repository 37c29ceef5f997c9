import { AsyncLocalStorage } from "node:async_hooks";
import { MemoryStore } from "../../src/stores/memory.js";
import type { CacheStore, ClockRequest } from "../../src/stores/types.js";
import type { StampChange } from "../../src/tags/stamps.js";

/**
 * A deterministic scheduler for races: every actor (a refresh, a writer...) runs in its own async context
 * and stops at each gate (every store call, and the moment its source answers). The driver then lets exactly
 * one parked actor through, chosen by a seeded PRNG, and waits until every live actor is parked again or
 * done. Each store call is atomic, so this explores the interleavings that matter.
 */
export class Scheduler {
  readonly #als = new AsyncLocalStorage<string>();
  readonly #parked = new Map<string, { what: string; go: () => void }>();
  readonly #running = new Set<string>();
  readonly #failures: unknown[] = [];
  /** What happened, in order: `actor:what`. */
  readonly trace: string[] = [];
  #next = 0;
  /** When false, gates let everything through at once (set-up and checks). */
  active = false;

  /** Starts `work` as an actor named `label`; it runs until its first gate. */
  spawn(label: string, work: () => Promise<unknown>): void {
    const id = `${label}#${++this.#next}`;
    this.#running.add(id);
    void this.#als.run(id, async () => {
      try {
        await work();
      } catch (error) {
        this.#failures.push(error);
      } finally {
        this.#running.delete(id);
        this.trace.push(`${id}:done`);
      }
    });
  }

  /** Parks the calling actor until the driver lets it through. Outside an actor (or when inactive) it passes. */
  gate(what: string): Promise<void> {
    const id = this.#als.getStore();
    if (!this.active || id === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => this.#parked.set(id, { what, go: resolve }));
  }

  /** Waits until every live actor is parked at a gate (or done). */
  async quiesce(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if ([...this.#running].every((id) => this.#parked.has(id))) return;
      if (Date.now() > deadline) throw new Error(`actors neither parked nor done: ${[...this.#running].filter((id) => !this.#parked.has(id)).join(", ")}`);
    }
  }

  /** The actors waiting at a gate, in a stable order. */
  parked(): string[] {
    return [...this.#parked.keys()].sort();
  }

  /** Lets one parked actor through. */
  release(id: string): void {
    const slot = this.#parked.get(id);
    if (!slot) throw new Error(`${id} is not parked`);
    this.#parked.delete(id);
    this.trace.push(`${id}:${slot.what}`);
    slot.go();
  }

  /** Errors thrown by actors. */
  get failures(): readonly unknown[] {
    return this.#failures;
  }

  /** Whether any actor is still running. */
  get busy(): boolean {
    return this.#running.size > 0;
  }
}

/** Wraps a store so that each call of an actor waits at a scheduler gate first, then runs atomically. */
export function gatedStore(inner: CacheStore, scheduler: Scheduler): CacheStore {
  const gate = <A extends unknown[], R>(what: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await scheduler.gate(what);
      return call(...args);
    };
  return {
    name: `gated-${inner.name}`,
    get: gate("get", (key: string) => inner.get(key)),
    getWithStamps: gate("getWithStamps", (key: string, stampKeys: readonly string[]) => inner.getWithStamps(key, stampKeys)),
    getStamps: gate("getStamps", (stampKeys: readonly string[]) => inner.getStamps(stampKeys)),
    nextVersion: gate("nextVersion", (clock: ClockRequest, read?: { key: string; stampKeys: readonly string[] }) => inner.nextVersion(clock, read)),
    stampTags: gate("stampTags", (clock: ClockRequest, stampKeys: readonly string[], change: StampChange, ttlMs: number) =>
      inner.stampTags(clock, stampKeys, change, ttlMs),
    ),
    startRefresh: gate("startRefresh", (read: { key: string; stampKeys: readonly string[]; doneKey: string }, clock?: ClockRequest) =>
      inner.startRefresh(read, clock),
    ),
    finishRefresh: gate(
      "finishRefresh",
      (write: { key: string; entry: string; version: number; ttlMs: number }, done: { key: string; ttlMs: number }, lock: { key: string; token: string }) =>
        inner.finishRefresh(write, done, lock),
    ),
    set: gate("set", (key: string, entry: string, ttlMs: number) => inner.set(key, entry, ttlMs)),
    setIfNotNewer: gate("setIfNotNewer", (key: string, entry: string, version: number, ttlMs: number) => inner.setIfNotNewer(key, entry, version, ttlMs)),
    markStale: gate("markStale", (key: string, version: number) => inner.markStale(key, version)),
    delete: gate("delete", (...keys: string[]) => inner.delete(...keys)),
    acquireLock: gate("acquireLock", (key: string, token: string, ttlMs: number) => inner.acquireLock(key, token, ttlMs)),
    forceLock: gate("forceLock", (key: string, token: string, ttlMs: number) => inner.forceLock(key, token, ttlMs)),
    releaseLock: gate("releaseLock", (key: string, token: string) => inner.releaseLock(key, token)),
  };
}

/**
 * Drives one interleaving: lets one parked actor through at a time, chosen by `random`, with the clock
 * moving 0-2 ms per step; after `writerStartsAfter` steps it spawns the writer. Returns when every actor
 * is done.
 */
export async function drive(
  scheduler: Scheduler,
  random: () => number,
  options: { writerStartsAfter: number; writer: () => Promise<unknown>; advance: (ms: number) => void; randomInt: (random: () => number, min: number, max: number) => number },
): Promise<void> {
  let writerStarted = false;
  for (let step = 0; scheduler.busy; step++) {
    await scheduler.quiesce();
    if (!writerStarted && step >= options.writerStartsAfter) {
      writerStarted = true;
      scheduler.spawn("writer", options.writer);
      await scheduler.quiesce();
    }
    const parked = scheduler.parked();
    if (parked.length === 0) break;
    options.advance(options.randomInt(random, 0, 2));
    scheduler.release(parked[options.randomInt(random, 0, parked.length - 1)] as string);
  }
}

/** Where an interleaving runs: a store, its clock, and how to move that clock (a no-op for a real one). */
export interface Backing {
  store: CacheStore;
  now: () => number;
  advance: (ms: number) => void;
}

/** What one interleaving found: whether it held, what happened if not, and what the writer did. */
export interface InterleavingRun {
  ok: boolean;
  detail: string;
  writerOps: readonly string[];
}

/** Runs `one` `count` times, each on a fresh memory store with a controlled clock of its own. */
export async function onMemoryStores<R>(count: number, one: (backing: Backing) => Promise<R>): Promise<R[]> {
  const runs: R[] = [];
  for (let i = 0; i < count; i++) {
    const clock = { now: 1_700_000_000_000 };
    const now = () => clock.now;
    runs.push(await one({ store: new MemoryStore({ now }), now, advance: (ms) => (clock.now += ms) }));
  }
  return runs;
}

/**
 * "" when every run held; otherwise how many of the `label` interleavings failed (`failure` says how), the
 * seed that replays them, and the first one's detail.
 */
export function failureReport(label: string, failure: string, runs: readonly InterleavingRun[], seed: number): string {
  const failed = runs.map((r, i) => ({ ...r, i })).filter((r) => !r.ok);
  return failed.length === 0
    ? ""
    : `${failed.length} of ${runs.length} ${label} interleavings ${failure} (seed ${seed}; replay with RELIABILITY_SEED=${seed}). ` +
        `First: #${failed[0]!.i}: ${failed[0]!.detail}`;
}
