import type { RefreshQueue } from "../queues/types.js";

/** How publishing backs off while the queue fails. */
export interface BackoffSettings {
  /** The first wait after a failure, ms. */
  initialMs: number;
  /** The longest wait, ms. */
  maxMs: number;
}

/** The wait before the next attempt after `failures` failures in a row (pure): doubling, capped. */
export function backoffMs(failures: number, settings: BackoffSettings): number {
  if (failures <= 0) return 0;
  return Math.min(settings.maxMs, settings.initialMs * 2 ** Math.min(failures - 1, 30));
}

/** What a publish attempt should do now. */
export type BreakerDecision = "publish" | "skip";

/**
 * The state of one queue as this process sees it: publishing goes on until a publish fails; then, for a
 * growing and bounded interval, this process does not try to publish at all (its refreshes run here),
 * and after the interval the next refresh tries again. A success ends the outage.
 */
export class QueueBreaker {
  #failures = 0;
  #until = 0;
  #since: number | undefined;
  /** When the last failure that counted was recorded (ms). */
  #lastFailure = Number.NEGATIVE_INFINITY;

  /** Whether to try publishing at `now`. */
  decide(now: number): BreakerDecision {
    return now < this.#until ? "skip" : "publish";
  }

  /**
   * Records a failed publish that began at `startedAt`; returns whether it began an outage (the first
   * failure after a success). A publish that began before the last failure was recorded was in flight with
   * it (a busy process publishes several at once): its failure is part of the same attempt, and neither
   * adds a step to the back-off nor extends the pause.
   */
  failed(now: number, settings: BackoffSettings, startedAt = now): boolean {
    if (startedAt <= this.#lastFailure) return false;
    this.#lastFailure = now;
    this.#failures++;
    this.#until = now + backoffMs(this.#failures, settings);
    if (this.#since !== undefined) return false;
    this.#since = now;
    return true;
  }

  /** Records a publish that worked; returns how long the outage lasted (ms) when it ends one. */
  succeeded(now: number): number | undefined {
    const since = this.#since;
    this.#failures = 0;
    this.#until = 0;
    this.#since = undefined;
    return since === undefined ? undefined : now - since;
  }

  /** Until when publishing is paused (ms since the epoch; 0 when it is not). */
  get pausedUntil(): number {
    return this.#until;
  }
}

const breakers = new WeakMap<RefreshQueue, QueueBreaker>();

/** The breaker of `queue` in this process (one per queue, shared by every instance that uses it). */
export function breakerFor(queue: RefreshQueue): QueueBreaker {
  let breaker = breakers.get(queue);
  if (!breaker) breakers.set(queue, (breaker = new QueueBreaker()));
  return breaker;
}
