import { burstClock } from "./burst-clock.js";
import { CachebackTimeoutError } from "./errors.js";

/**
 * When an operation started: `performance.now()`, read once for the operations started in one burst. One
 * started late in a long burst counts its time from the burst's start, which ends it early by at most
 * that burst's length.
 */
const startTime = burstClock(() => performance.now());

/**
 * An operation that {@link Deadlines} watches. It is the caller's own object (a read's state), so that
 * watching allocates nothing: the deadline and the flag live on it.
 */
export interface Watched {
  /** When its time is up (`performance.now()` milliseconds); set by {@link Deadlines.watch}. */
  deadline: number;
  /** False while watched; true once it settled ({@link Deadlines.done}) or timed out. */
  over: boolean;
  /** Names the operation in the timeout error, after the `what` of its {@link Deadlines}. */
  readonly subject: string;
  /** Called once, with `this` the watched object, when its time is up before it settled. */
  timedOut(error: CachebackTimeoutError): void;
}

/** The queue's first capacity (a power of two); it doubles as needed and shrinks back once empty. */
const FIRST_CAPACITY = 64;

/**
 * Time limits for many short operations of one duration (an instance's reads). Every operation has the
 * same duration, so their deadlines come in the order they started: they wait in a queue, and one timer,
 * armed for the oldest one still running, serves them all. Watching an operation is a clock read (one per
 * burst of them) and a place in a ring buffer, ending it a flag: no timer, closure or handle is made per
 * operation. The timer is made again at most once per duration while operations keep coming, and never
 * keeps a process alive.
 */
export class Deadlines {
  readonly #ms: number;
  readonly #what: string;
  /** Whether operations are limited at all (`ms` is finite). */
  readonly limited: boolean;
  /** Watched operations in the order they started: a ring buffer of `#size` from `#head`. */
  #ring: (Watched | undefined)[] = new Array<Watched | undefined>(FIRST_CAPACITY).fill(undefined);
  #head = 0;
  #size = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param what names the operations in timeout errors, before each one's subject ("read of "). */
  constructor(ms: number, what: string) {
    this.#ms = ms;
    this.#what = what;
    this.limited = Number.isFinite(ms);
  }

  /**
   * Starts watching `op`: its `timedOut` is called with a {@link CachebackTimeoutError} naming its subject
   * if {@link done} is not called within the time. Call {@link done} when the operation settles.
   */
  watch(op: Watched): void {
    op.deadline = startTime() + this.#ms;
    op.over = false;
    if (this.#size === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.#size) & (this.#ring.length - 1)] = op;
    this.#size++;
    if (this.#timer === undefined) this.#arm(this.#ms);
  }

  /** The watched operation settled. Returns false when it had timed out already (its outcome is late). */
  done(op: Watched): boolean {
    if (op.over) return false;
    op.over = true;
    if (this.#ring[this.#head] === op) this.#dropOver();
    return true;
  }

  /**
   * Resolves or rejects as `promise` does, or rejects with a {@link CachebackTimeoutError} naming
   * `subject` once the time is up. The work itself is not cancelled; its late outcome is ignored.
   */
  race<T>(promise: Promise<T>, subject: string): Promise<T> {
    if (!this.limited) return promise;
    return new Promise<T>((resolve, reject) => {
      const op: Watched = { deadline: 0, over: false, subject, timedOut: reject };
      this.watch(op);
      promise.then(
        (value) => this.done(op) && resolve(value),
        (error: unknown) => this.done(op) && reject(error),
      );
    });
  }

  /** The oldest operation still watched (or over but not dropped yet). */
  #oldest(): Watched | undefined {
    return this.#size > 0 ? this.#ring[this.#head] : undefined;
  }

  /** Drops the oldest operation. */
  #shift(): void {
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#ring.length - 1);
    this.#size--;
  }

  /** Drops the operations that are over from the head of the queue; shrinks a large ring once it is empty. */
  #dropOver(): void {
    while (this.#size > 0 && this.#ring[this.#head]!.over) this.#shift();
    if (this.#size === 0 && this.#ring.length > 16 * FIRST_CAPACITY) {
      this.#ring = new Array<Watched | undefined>(FIRST_CAPACITY).fill(undefined);
      this.#head = 0;
    }
  }

  #grow(): void {
    const ring = this.#ring;
    const grown = new Array<Watched | undefined>(ring.length * 2).fill(undefined);
    for (let i = 0; i < this.#size; i++) grown[i] = ring[(this.#head + i) & (ring.length - 1)];
    this.#ring = grown;
    this.#head = 0;
  }

  #arm(ms: number): void {
    const timer = setTimeout(() => this.#fired(), ms);
    (timer as { unref?: () => void }).unref?.();
    this.#timer = timer;
  }

  /** The timer fired: every operation whose time is up times out, and the timer is armed for the next one. */
  #fired(): void {
    this.#timer = undefined;
    const now = performance.now();
    const late: Watched[] = [];
    // Deadlines grow along the queue: the expired operations are the ones at its head.
    for (let op = this.#oldest(); op !== undefined && op.deadline <= now; op = this.#oldest()) {
      this.#shift();
      if (!op.over) {
        op.over = true;
        late.push(op);
      }
    }
    this.#dropOver();
    const next = this.#oldest();
    if (next !== undefined) this.#arm(Math.max(1, Math.ceil(next.deadline - now)));
    for (const op of late) op.timedOut(new CachebackTimeoutError(`${this.#what}${op.subject}`, this.#ms));
  }
}
