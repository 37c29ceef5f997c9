/** The message log: every message the engine knows, with what it needs to deliver it, in publish order. */
import type { MessageRecord, MessageState } from "./message-record.js";

/** The states a message does not leave. */
export const TERMINAL: ReadonlySet<MessageState> = new Set<MessageState>(["DELIVERED", "FAILED", "CANCELLED"]);

/** A message in the log: its record, its body's bytes, and the timer or the delivery it is waiting on. */
export interface LogEntry {
  record: MessageRecord;
  bytes: Uint8Array<ArrayBuffer>;
  timer?: ReturnType<typeof setTimeout>;
  controller?: AbortController;
}

/** A deep copy of a record, so that readers never hold the engine's own. */
export function copyRecord(record: MessageRecord): MessageRecord {
  return {
    ...record,
    headers: { ...record.headers },
    attempts: record.attempts.map((attempt) => ({ ...attempt })),
    ...(record.responseHeader
      ? {
          responseHeader: Object.fromEntries(
            Object.entries(record.responseHeader).map(([name, values]) => [name, [...values]]),
          ),
        }
      : {}),
  };
}

/**
 * The log, bounded: past `maxSize` messages, the oldest finished ones are dropped (delivered and cancelled
 * ones first, then dead letters); messages still waiting are never dropped.
 */
export class MessageLog {
  readonly #entries = new Map<string, LogEntry>();
  readonly #maxSize: number;

  constructor(maxSize: number) {
    this.#maxSize = Math.max(1, maxSize);
  }

  add(entry: LogEntry): void {
    this.#entries.set(entry.record.messageId, entry);
  }

  get(id: string): LogEntry | undefined {
    return this.#entries.get(id);
  }

  delete(id: string): boolean {
    return this.#entries.delete(id);
  }

  /** Every entry, oldest first. */
  entries(): IterableIterator<LogEntry> {
    return this.#entries.values();
  }

  /** Snapshots of the records `keep` selects, newest first. */
  snapshots(keep: (record: MessageRecord) => boolean = () => true): MessageRecord[] {
    const out: MessageRecord[] = [];
    for (const entry of this.#entries.values()) if (keep(entry.record)) out.push(copyRecord(entry.record));
    return out.reverse();
  }

  /** Drops the oldest finished messages while the log is over its bound. */
  trim(): void {
    if (this.#entries.size <= this.#maxSize) return;
    for (const pass of [["DELIVERED", "CANCELLED"], ["FAILED"]] as const) {
      for (const [id, entry] of this.#entries) {
        if (this.#entries.size <= this.#maxSize) return;
        if ((pass as readonly MessageState[]).includes(entry.record.state)) this.#entries.delete(id);
      }
    }
  }
}
