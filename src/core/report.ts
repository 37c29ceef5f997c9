import { describeError } from "../errors.js";
import type { CachebackEvent, CachebackEvents, EventHub } from "../events.js";

/** How often one kind of failure may reach the log when nobody listens for `error` events. */
const LOG_INTERVAL_MS = 10_000;

/**
 * Reports the faults a read survives: as `error` events when someone listens, otherwise in the log, at
 * most once per operation every 10 s so that an outage does not flood it.
 */
export class Reporter {
  readonly #events: EventHub;
  readonly #lastLogged = new Map<string, number>();

  constructor(events: EventHub) {
    this.#events = events;
  }

  error(operation: CachebackEvents["error"]["operation"], key: string, error: unknown): void {
    if (this.#events.wants("error")) {
      this.#events.emit("error", { key, operation, error });
      return;
    }
    const now = Date.now();
    if ((this.#lastLogged.get(operation) ?? 0) + LOG_INTERVAL_MS > now) return;
    this.#lastLogged.set(operation, now);
    console.error(
      `[next-cacheback] ${operation} failed for ${key} (${describeError(error)}); the read was served anyway. Subscribe to "error" events to handle these.`,
    );
  }

  /** Logs one line (a change of state, such as an outage beginning or ending). */
  line(text: string): void {
    console.warn(text);
  }

  /** Logs `line` once for the life of the instance. */
  once(id: string, line: string): void {
    const slot = `once:${id}`;
    if (this.#lastLogged.has(slot)) return;
    this.#lastLogged.set(slot, 1);
    console.warn(line);
  }
}

/** One event as a debug log line: `type key=value ...`. */
export function formatEvent(event: CachebackEvent): string {
  const { type, ...rest } = event;
  const parts = Object.entries(rest).map(([k, v]) => `${k}=${v instanceof Error ? describeError(v) : typeof v === "string" ? v : JSON.stringify(v)}`);
  return `${type} ${parts.join(" ")}`;
}
