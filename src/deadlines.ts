import { CachebackTimeoutError } from "./errors.js";

/** A reusable timer, armed again with `refresh()` for each operation it watches. */
interface Slot {
  timer: ReturnType<typeof setTimeout>;
  /** Called when the timer fires while an operation is watched; `undefined` when idle. */
  fire: ((error: CachebackTimeoutError) => void) | undefined;
  subject: string;
  /** Which operation holds the slot: a late `done` of an earlier holder must not end a later one's watch. */
  holder: number;
}

/** What {@link Deadlines.watch} hands back, to pass to {@link Deadlines.done}: a slot and its holder, or a timer. */
export type Watch = { slot: Slot; holder: number } | ReturnType<typeof setTimeout>;

/**
 * Time limits for many short operations of one duration (an instance's reads). In Node.js each
 * operation borrows a timer from a pool and re-arms it (`timeout.refresh()`), so a read allocates no
 * timer; an idle pool costs nothing (its timers fire once more with nothing to do, and never keep a
 * process alive). Where timers cannot be re-armed, a timer is made per operation.
 */
export class Deadlines {
  readonly #ms: number;
  readonly #what: string;
  readonly #idle: Slot[] = [];
  #reusable = true;

  /** @param what names the operations in timeout errors, before each one's subject ("read of "). */
  constructor(ms: number, what: string) {
    this.#ms = ms;
    this.#what = what;
  }

  /** Whether operations are limited at all (`ms` is finite). */
  get limited(): boolean {
    return Number.isFinite(this.#ms);
  }

  /**
   * Starts watching an operation: `onTimeout` is called with a {@link CachebackTimeoutError} naming
   * `subject` if {@link done} is not called within the time. Call {@link done} when the operation settles.
   */
  watch(subject: string, onTimeout: (error: CachebackTimeoutError) => void): Watch {
    if (this.#reusable) {
      const slot = this.#idle.pop() ?? this.#make();
      if (slot) {
        slot.timer.refresh();
        slot.fire = onTimeout;
        slot.subject = subject;
        return { slot, holder: ++slot.holder };
      }
    }
    const timer = setTimeout(() => onTimeout(this.#error(subject)), this.#ms);
    (timer as { unref?: () => void }).unref?.();
    return timer;
  }

  /** The watched operation settled. Returns false when it had timed out already (its outcome is late). */
  done(watch: Watch): boolean {
    if (typeof watch === "object" && watch !== null && "slot" in watch) {
      const { slot, holder } = watch;
      if (slot.holder !== holder || slot.fire === undefined) return false; // timed out (and maybe reused since)
      slot.fire = undefined;
      this.#idle.push(slot);
      return true;
    }
    clearTimeout(watch);
    return true;
  }

  /**
   * Resolves or rejects as `promise` does, or rejects with a {@link CachebackTimeoutError} naming
   * `subject` once the time is up. The work itself is not cancelled; its late outcome is ignored.
   */
  race<T>(promise: Promise<T>, subject: string): Promise<T> {
    if (!this.limited) return promise;
    return new Promise<T>((resolve, reject) => {
      const watch = this.watch(subject, reject);
      promise.then(
        (value) => this.done(watch) && resolve(value),
        (error: unknown) => this.done(watch) && reject(error),
      );
    });
  }

  #error(subject: string): CachebackTimeoutError {
    return new CachebackTimeoutError(`${this.#what}${subject}`, this.#ms);
  }

  #make(): Slot | undefined {
    const slot: Slot = { timer: setTimeout(() => this.#fired(slot), this.#ms), fire: undefined, subject: "", holder: 0 };
    const timer = slot.timer as { unref?: () => void; refresh?: () => void };
    if (typeof timer.refresh !== "function") {
      clearTimeout(slot.timer);
      this.#reusable = false;
      return undefined;
    }
    timer.unref?.();
    return slot;
  }

  #fired(slot: Slot): void {
    const fire = slot.fire;
    if (fire === undefined) return; // idle: nothing is watched
    slot.fire = undefined;
    this.#idle.push(slot);
    fire(this.#error(slot.subject));
  }
}
