/** When deliveries run: the timers, the runs in flight, the count of unfinished messages, and the retry decision. */
import { unrefTimer, type AttemptOutcome } from "./attempt.js";
import type { LogEntry } from "./message-log.js";
import { nextRetryDelayMs } from "./retry.js";

/** What follows a delivery that was not cancelled. */
export type NextStep =
  | { kind: "delivered" }
  /** A 489 with `Upstash-NonRetryable-Error: true`: dead-lettered at once. */
  | { kind: "non-retryable" }
  | { kind: "retry"; waitMs: number }
  /** The retries are spent: dead-lettered. */
  | { kind: "spent" };

/**
 * QStash's decision after delivery number `retried + 1`: a 2xx is delivered; a 489 marked non-retryable is
 * dead-lettered; anything else is retried after QStash's back-off (or the answer's `Retry-After`), scaled,
 * while retries are left.
 */
export function nextStep(outcome: AttemptOutcome, retried: number, maxRetries: number, scale: number, nowMs: number): NextStep {
  const status = outcome.status;
  if (status !== undefined && status >= 200 && status < 300) return { kind: "delivered" };
  if (status === 489 && outcome.headers?.get("Upstash-NonRetryable-Error")?.trim().toLowerCase() === "true") {
    return { kind: "non-retryable" };
  }
  if (retried < maxRetries) {
    return { kind: "retry", waitMs: nextRetryDelayMs(retried + 1, { scale, retryAfter: outcome.headers?.get("Retry-After") ?? null, nowMs }) };
  }
  return { kind: "spent" };
}

/**
 * The engine's timers and runs: schedules each delivery, keeps the runs in flight (so `stop` can wait for
 * them), and counts the messages not yet finished (so `idle` knows when none is left).
 */
export class DeliveryTimers {
  readonly #now: () => number;
  readonly #inFlight = new Set<Promise<void>>();
  #idleWaiters: Array<() => void> = [];
  #pending = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** A message was queued: it counts until {@link DeliveryTimers.finished}. */
  started(): void {
    this.#pending += 1;
  }

  /** A message reached a final state. */
  finished(): void {
    this.#pending -= 1;
    if (this.#pending === 0) this.wakeIdle();
  }

  /**
   * Runs `run(entry)` after `waitMs` (an unreferenced timer), and keeps the run in flight until it settles.
   * `crashed` gets what `run` threw, if it throws.
   */
  schedule(entry: LogEntry, waitMs: number, run: (entry: LogEntry) => Promise<void>, crashed: (error: unknown) => void): void {
    entry.record.nextDeliveryAt = this.#now() + waitMs;
    const timer = setTimeout(() => {
      entry.timer = undefined;
      const running = run(entry)
        .catch(crashed)
        .finally(() => this.#inFlight.delete(running));
      this.#inFlight.add(running);
    }, waitMs);
    unrefTimer(timer);
    entry.timer = timer;
  }

  /** Cancels the entry's timer and aborts its delivery in flight, if any. */
  halt(entry: LogEntry): void {
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.controller?.abort();
  }

  /** Resolves once no message is waiting or in flight (at once when `closed`). */
  idle(closed: boolean): Promise<void> {
    if (this.#pending === 0 || closed) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Halts every entry, waits for the runs in flight, then wakes every `idle` waiter. */
  async stop(entries: Iterable<LogEntry>): Promise<void> {
    for (const entry of entries) this.halt(entry);
    await Promise.allSettled([...this.#inFlight]);
    this.wakeIdle();
  }

  wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
