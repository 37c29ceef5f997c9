import { deliverOnce, type AttemptOutcome } from "./attempt.js";
import { DeadLetterQueue } from "./dead-letters.js";
import { DedupWindow } from "./dedup.js";
import { bytesToBase64, bytesToUtf8, randomId, toBytes } from "./encoding.js";
import { DeliveryEngineClosedError } from "./errors.js";
import { copyRecord, MessageLog, TERMINAL, type LogEntry } from "./message-log.js";
import type { MessageRecord, MessageState } from "./message-record.js";
import { checkPublish, describeFailure, firstDelayMs, type PublishInput, type PublishResult } from "./publish-input.js";
import { DeliveryTimers, nextStep } from "./scheduling.js";

export type { DeliveryAttempt, MessageRecord, MessageState } from "./message-record.js";
export { QSTASH_METHODS, validateDestination, type PublishInput, type PublishResult } from "./publish-input.js";

/** Options of a {@link DeliveryEngine}. */
export interface DeliveryEngineOptions {
  /** The current signing key; every delivery is signed with it. */
  signingKey: string;
  /**
   * Multiplies every wait: `delay`, `notBefore`, the retry back-off and `Retry-After`. Tests use ~0.001.
   * @default 1
   */
  retryDelayScale?: number;
  /**
   * Retries of a message published without `retries` (deliveries = 1 + retries).
   * @default 3
   */
  defaultRetries?: number;
  /**
   * How long one delivery of a message published without `timeoutSeconds` may take, in seconds.
   * @default 900
   */
  defaultTimeoutSeconds?: number;
  /**
   * How long a deduplication id (explicit or content-based) is remembered, in milliseconds.
   * @default 600_000
   */
  dedupWindowMs?: number;
  /**
   * The fetch that delivers messages.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * The clock, unix milliseconds. It stamps records, signatures and dedup windows; waits use real timers.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Receives one line per notable event (delivered, retry scheduled, dead-lettered).
   * @default no logging
   */
  log?: (line: string) => void;
  /**
   * The most messages kept in the log. Past it, the oldest finished messages are dropped: delivered and
   * cancelled ones first, then dead letters; messages still waiting are never dropped.
   * @default 10_000
   */
  maxLogSize?: number;
}

/**
 * A local QStash: it takes published messages, delivers each one to its destination signed exactly as
 * QStash signs, retries failed deliveries on QStash's schedule, and keeps a message log and a dead-letter
 * queue in memory. Edge-safe (fetch, Web Crypto, timers); timers never keep a process alive, and no error
 * escapes as an unhandled rejection.
 *
 * The parts: the checks of a publish (`publish-input.ts`), deduplication (`dedup.ts`), the log
 * (`message-log.ts`), one HTTP delivery (`attempt.ts`), the timers and the retry decision
 * (`scheduling.ts`) and the dead-letter queue (`dead-letters.ts`). This class ties them together.
 */
export class DeliveryEngine {
  readonly #signingKey: string;
  readonly #scale: number;
  readonly #defaults: { retries: number; timeoutSeconds: number };
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #log: (line: string) => void;

  readonly #messages: MessageLog;
  readonly #dedup: DedupWindow;
  readonly #timers: DeliveryTimers;
  readonly #deadLetters: DeadLetterQueue;
  #closed = false;

  constructor(options: DeliveryEngineOptions) {
    if (!options.signingKey) {
      throw new TypeError("DeliveryEngine needs a signingKey: pass the current QStash signing key (sig_...).");
    }
    this.#signingKey = options.signingKey;
    this.#scale = options.retryDelayScale ?? 1;
    this.#defaults = { retries: options.defaultRetries ?? 3, timeoutSeconds: options.defaultTimeoutSeconds ?? 900 };
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => {});
    if (!(this.#scale >= 0) || !Number.isFinite(this.#scale)) {
      throw new TypeError(`retryDelayScale must be a finite number >= 0, got ${String(options.retryDelayScale)}.`);
    }
    this.#messages = new MessageLog(options.maxLogSize ?? 10_000);
    this.#dedup = new DedupWindow(options.dedupWindowMs ?? 600_000);
    this.#timers = new DeliveryTimers(this.#now);
    this.#deadLetters = new DeadLetterQueue(this.#messages, this.#now);
  }

  /**
   * Queues a message. A duplicate (same `deduplicationId`, or same content with `contentBasedDeduplication`)
   * within the dedup window answers the original `messageId` with `deduplicated: true` and queues nothing.
   * @throws {QStashPublishError} when the destination, method, retries, delay or headers are invalid.
   * @throws {DeliveryEngineClosedError} after {@link DeliveryEngine.close}.
   */
  async publish(input: PublishInput): Promise<PublishResult> {
    if (this.#closed) throw new DeliveryEngineClosedError();
    const { url, method, retries, timeoutSeconds, headers } = checkPublish(input, this.#defaults);
    const bytes = toBytes(input.body);
    const dedupKey = await this.#dedup.keyOf(input, url, headers, bytes);
    if (this.#closed) throw new DeliveryEngineClosedError();

    const now = this.#now();
    if (dedupKey !== undefined) {
      const existing = this.#dedup.find(dedupKey, now);
      if (existing !== undefined) {
        this.#log(`[qstash] ${existing} deduplicated: ${url} was published again within the window`);
        return { messageId: existing, url, deduplicated: true };
      }
    }

    const delayMs = firstDelayMs(input, now);
    const text = bytesToUtf8(bytes);
    const record: MessageRecord = {
      messageId: randomId("msg_"),
      url,
      method,
      headers,
      ...(text === undefined ? { bodyBase64: bytesToBase64(bytes) } : { body: text }),
      createdAt: now,
      notBefore: now + delayMs,
      maxRetries: retries,
      timeoutSeconds,
      ...(input.deduplicationId ? { deduplicationId: input.deduplicationId } : {}),
      ...(input.callerIp ? { callerIp: input.callerIp } : {}),
      state: "CREATED",
      attempts: [],
    };
    const entry: LogEntry = { record, bytes };
    this.#messages.add(entry);
    this.#timers.started();
    if (dedupKey !== undefined) this.#dedup.remember(dedupKey, record.messageId, now);
    this.#schedule(entry, delayMs * this.#scale);
    this.#messages.trim();
    return { messageId: record.messageId, url, deduplicated: false };
  }

  /** Every message in the log, newest first, with its state and deliveries (snapshots). */
  messages(): MessageRecord[] {
    return this.#messages.snapshots();
  }

  /** The dead-letter queue: messages whose retries are spent or that failed non-retryably, newest first. */
  deadLetters(): MessageRecord[] {
    return this.#deadLetters.list();
  }

  /** One message by id (a snapshot), or `undefined` when it is unknown or was dropped from the log. */
  message(id: string): MessageRecord | undefined {
    const entry = this.#messages.get(id);
    return entry ? copyRecord(entry.record) : undefined;
  }

  /**
   * Cancels a message that is not finished: no further delivery starts, and one in flight is aborted.
   * @returns `true` when it was cancelled, `false` when it is unknown or already finished.
   */
  cancel(id: string): boolean {
    const entry = this.#messages.get(id);
    if (!entry || TERMINAL.has(entry.record.state)) return false;
    this.#timers.halt(entry);
    this.#finish(entry, "CANCELLED");
    this.#log(`[qstash] ${id} cancelled`);
    return true;
  }

  /**
   * Removes a message from the dead-letter queue (and from the log).
   * @returns `true` when a dead letter with that id (`dlqId` or `messageId`) was removed.
   */
  deleteDeadLetter(id: string): boolean {
    return this.#deadLetters.remove(id);
  }

  /**
   * Redelivers a dead letter, as QStash's console does with "Retry": the message is published again, with a
   * new id, the same destination, method, headers and body and a fresh retry budget, and leaves the
   * dead-letter queue. Its record stays in the log (`FAILED`, with `redeliveredAs`); the new one carries
   * `redeliveryOf`.
   * @param id The dead letter's `dlqId` or `messageId`.
   * @returns The new message's id, or `undefined` when there is no such dead letter.
   * @throws {DeliveryEngineClosedError} after {@link DeliveryEngine.close}.
   */
  async redeliver(id: string): Promise<string | undefined> {
    if (this.#closed) throw new DeliveryEngineClosedError();
    const released = this.#deadLetters.release(id);
    if (!released) return undefined;
    const { entry } = released;
    const old = entry.record;
    let messageId: string;
    try {
      ({ messageId } = await this.publish({
        destination: old.url,
        method: old.method,
        headers: old.headers,
        body: entry.bytes,
        retries: old.maxRetries,
        timeoutSeconds: old.timeoutSeconds,
        ...(old.callerIp ? { callerIp: old.callerIp } : {}),
      }));
    } catch (error) {
      this.#deadLetters.readmit(released); // closed meanwhile: it stays a dead letter
      throw error;
    }
    old.redeliveredAs = messageId;
    const copy = this.#messages.get(messageId);
    if (copy) copy.record.redeliveryOf = old.messageId;
    this.#log(`[qstash] ${old.messageId} redelivered from the dead-letter queue as ${messageId}`);
    return messageId;
  }

  /** Resolves once no message is waiting or in flight (immediately after {@link DeliveryEngine.close}). */
  idle(): Promise<void> {
    return this.#timers.idle(this.#closed);
  }

  /** Stops the engine: timers are cancelled and deliveries in flight are aborted. Waiting messages stay unsent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#timers.stop(this.#messages.entries());
  }

  #schedule(entry: LogEntry, waitMs: number): void {
    this.#timers.schedule(entry, waitMs, (due) => this.#attempt(due), (error) => {
      this.#log(`[qstash] ${entry.record.messageId} internal error: ${describeFailure(error)}`);
      if (!TERMINAL.has(entry.record.state)) this.#deadLetter(entry);
    });
  }

  async #attempt(entry: LogEntry): Promise<void> {
    const record = entry.record;
    if (this.#closed || TERMINAL.has(record.state)) return;
    const retried = record.attempts.length;
    record.state = "ACTIVE";
    delete record.nextDeliveryAt;

    const { attempt, outcome } = await deliverOnce(entry, { signingKey: this.#signingKey, fetch: this.#fetch, now: this.#now });
    if ((record.state as MessageState) === "CANCELLED") return;
    if (this.#closed) {
      record.state = retried === 0 ? "CREATED" : "RETRY";
      return;
    }
    this.#afterAttempt(entry, outcome, retried, attempt.durationMs);
  }

  #afterAttempt(entry: LogEntry, outcome: AttemptOutcome, retried: number, durationMs: number): void {
    const record = entry.record;
    const what = outcome.status !== undefined ? `HTTP ${outcome.status}` : (outcome.error ?? "failed");
    const step = nextStep(outcome, retried, record.maxRetries, this.#scale, this.#now());
    switch (step.kind) {
      case "delivered":
        this.#finish(entry, "DELIVERED");
        this.#log(`[qstash] ${record.messageId} delivered to ${record.url} (${what}, ${durationMs} ms)`);
        return;
      case "non-retryable":
        this.#log(`[qstash] ${record.messageId} non-retryable error from ${record.url} (${what}): dead-lettered`);
        this.#deadLetter(entry);
        return;
      case "retry":
        record.state = "RETRY";
        this.#schedule(entry, step.waitMs);
        this.#log(
          `[qstash] ${record.messageId} delivery ${retried + 1} to ${record.url} failed (${what}); retry in ${Math.round(step.waitMs)} ms`,
        );
        return;
      case "spent":
        this.#log(
          `[qstash] ${record.messageId} delivery ${retried + 1} to ${record.url} failed (${what}); retries spent: dead-lettered`,
        );
        this.#deadLetter(entry);
    }
  }

  #deadLetter(entry: LogEntry): void {
    this.#deadLetters.admit(entry);
    this.#finish(entry, "FAILED");
  }

  #finish(entry: LogEntry, state: MessageState): void {
    const wasPending = !TERMINAL.has(entry.record.state);
    entry.record.state = state;
    delete entry.record.nextDeliveryAt;
    if (wasPending) this.#timers.finished();
    this.#messages.trim();
  }
}
