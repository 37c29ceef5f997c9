/** The dead-letter queue: the messages of the log whose retries are spent or that failed non-retryably. */
import type { LogEntry, MessageLog } from "./message-log.js";
import type { MessageRecord } from "./message-record.js";

/** A view of the log's dead letters: each gets a `dlqId` when it enters, and leaves the log when removed. */
export class DeadLetterQueue {
  readonly #log: MessageLog;
  readonly #now: () => number;
  #counter = 0;

  constructor(log: MessageLog, now: () => number) {
    this.#log = log;
    this.#now = now;
  }

  /** Gives the entry its dead-letter id (`<ms>-<n>`); the engine then marks it `FAILED`. */
  admit(entry: LogEntry): void {
    this.#counter += 1;
    entry.record.dlqId = `${this.#now()}-${this.#counter}`;
  }

  /** Snapshots of the dead letters, newest first. */
  list(): MessageRecord[] {
    return this.#log.snapshots((record) => record.dlqId !== undefined);
  }

  /** The dead letter whose `dlqId` or `messageId` is `id`. */
  find(id: string): LogEntry | undefined {
    for (const entry of this.#log.entries()) {
      if (entry.record.dlqId !== undefined && (entry.record.dlqId === id || entry.record.messageId === id)) return entry;
    }
    return undefined;
  }

  /**
   * Takes the dead letter `id` (`dlqId` or `messageId`) out of the queue, keeping it in the log as a failed
   * message, and gives it with the `dlqId` it had; `undefined` when there is none. `readmit` puts it back.
   */
  release(id: string): { entry: LogEntry; dlqId: string } | undefined {
    const entry = this.find(id);
    const dlqId = entry?.record.dlqId;
    if (!entry || dlqId === undefined) return undefined;
    delete entry.record.dlqId;
    return { entry, dlqId };
  }

  /** Puts back a dead letter taken by {@link DeadLetterQueue.release}, with its `dlqId`. */
  readmit(released: { entry: LogEntry; dlqId: string }): void {
    released.entry.record.dlqId = released.dlqId;
  }

  /** Removes the dead letter `id` (`dlqId` or `messageId`) from the queue and the log; whether there was one. */
  remove(id: string): boolean {
    const entry = this.find(id);
    return entry !== undefined && this.#log.delete(entry.record.messageId);
  }
}
