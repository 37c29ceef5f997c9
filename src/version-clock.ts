/**
 * The clock entry versions are read from. A version orders the writes of one entry (`set`, `invalidate`,
 * a refresh's start): a refresh writes only over an entry whose version is not newer than its own start.
 *
 * Versions are milliseconds since the epoch times {@link VERSION_TICKS_PER_MS}, plus a counter, so that
 * two events of one process in the same millisecond still get distinct, ordered versions (a `set` made
 * just after a refresh started, in the same millisecond, must win over it). Across processes the order is
 * as good as their clocks.
 */

/** Versions per millisecond: the room a process has to order events within one millisecond. */
export const VERSION_TICKS_PER_MS = 1000;

/** Strictly increasing versions from a millisecond clock. */
export class VersionClock {
  readonly #now: () => number;
  #last = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** The next version: the clock's time in ticks, or one more than the last version when that is later. */
  next(): number {
    const version = Math.max(Math.trunc(this.#now()) * VERSION_TICKS_PER_MS, this.#last + 1);
    this.#last = version;
    return version;
  }
}

let shared: VersionClock | undefined;

/** One version clock per process for every instance on the real clock, so their events are ordered too. */
export function processVersionClock(): VersionClock {
  shared ??= new VersionClock(() => Date.now());
  return shared;
}

/** The first version of the given millisecond (what a message's `queuedAt` is compared in). */
export function versionAt(ms: number): number {
  return Math.trunc(ms) * VERSION_TICKS_PER_MS;
}
