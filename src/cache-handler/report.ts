import { describeError } from "../errors.js";
import type { CacheHandlerEvent } from "./types.js";

/** One event as a debug log line: `type key=value ...`. */
function formatEvent(event: CacheHandlerEvent): string {
  const { type, ...rest } = event;
  const parts = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v instanceof Error ? describeError(v) : typeof v === "string" ? v : JSON.stringify(v)}`);
  return `${type} ${parts.join(" ")}`;
}

/**
 * Where a handler reports: events to the listener (and the console with `debug`), and store failures in
 * the log once per outage window: the first failure logs one line, later ones are silent until an
 * operation succeeds again.
 */
export class HandlerReporter {
  readonly #listener: ((event: CacheHandlerEvent) => void) | undefined;
  readonly #debug: boolean;
  #outage = false;

  constructor(listener: ((event: CacheHandlerEvent) => void) | undefined, debug: boolean) {
    this.#listener = listener;
    this.#debug = debug;
  }

  /** Whether anyone gets events (so a caller can skip building one). */
  get listening(): boolean {
    return this.#listener !== undefined || this.#debug;
  }

  emit(event: CacheHandlerEvent): void {
    if (this.#debug) console.debug(`[next-cacheback] cache handler: ${formatEvent(event)}`);
    if (!this.#listener) return;
    try {
      this.#listener(event);
    } catch (error) {
      console.error(`[next-cacheback] the cache handler's event listener threw on "${event.type}"`, error);
    }
  }

  /** A store failure: an `error` event, and the outage's one log line. */
  failed(event: Extract<CacheHandlerEvent, { type: "error" }>): void {
    this.emit(event);
    if (this.#outage) return;
    this.#outage = true;
    console.error(
      `[next-cacheback] cache handler: Redis failed during ${event.operation} (${describeError(event.error)}). ` +
        "Reads answer misses (Next.js renders afresh) until it is back; further failures are not logged until then.",
    );
  }

  /** A store operation succeeded: ends an outage window (said in the log with `debug` only). */
  ok(): void {
    if (!this.#outage) return;
    this.#outage = false;
    if (this.#debug) console.debug("[next-cacheback] cache handler: Redis answers again.");
  }

  /** An entry too large to store: always logged (it fails the same way every time it is regenerated). */
  tooLarge(key: string, bytes: number, limit: number): void {
    console.error(
      `[next-cacheback] cache handler: the entry ${key.slice(0, 120)} is over ${bytes} bytes, more than maxEntrySize ` +
        `(${limit} bytes); it is not stored and is rendered afresh on every read. Cache smaller pieces, or raise maxEntrySize ` +
        "if your Upstash plan accepts larger requests.",
    );
  }
}
