/**
 * The example app under `next start` for the load run, with `CACHEBACK_DEBUG=1`: next-cacheback then logs
 * every event it emits in the server (one line each, on stdout). The refresh events are parsed as they
 * arrive and stamped with the time they arrived, so the run can count the refreshes that ran whichever way
 * they ran: delivered by QStash to the refresh route, or in process while QStash failed (those never reach
 * QStash). The example app itself is not changed.
 */
import { EXAMPLE_DIR } from "../../test/e2e/example-app.js";
import { startNextServer } from "../../test/helpers/next-app.js";

/** One refresh event of the server, as logged. */
export interface RefreshEvent {
  /** When the line arrived, ms since the epoch (the server's own clock is the same machine's). */
  at: number;
  type: "refresh-queued" | "refresh-fallback" | "refresh-done" | "refresh-failed";
  /** The entry's Redis key. */
  key: string;
  job: string;
  /** refresh-done: how long the refresh took, from its first read to its write. */
  durationMs?: number;
  /** refresh-done: whether it wrote (false: a newer entry was there). */
  written?: boolean;
  /** refresh-done / refresh-failed: a synchronous fetch during a read (a miss), not a refresh. */
  sync?: boolean;
  /** refresh-queued: refreshes in its message. */
  batch?: number;
}

/** The running example. */
export interface LoadExample {
  readonly origin: string;
  readonly port: number;
  /** Every refresh event so far, in arrival order. */
  readonly events: RefreshEvent[];
  /** Read events (hit, stale, miss) logged so far. */
  readEvents(): number;
  /** The last lines the server printed that were not events (for diagnostics). */
  output(): string;
  close(): Promise<void>;
}

const LINE = /^\[next-cacheback\] (refresh-queued|refresh-fallback|refresh-done|refresh-failed) (.*)$/;
const field = (rest: string, name: string) => new RegExp(`(?:^| )${name}=(\\S+)`).exec(rest)?.[1];

/** Parses one log line; `undefined` when it is not a refresh event. */
export function parseRefreshEvent(line: string, at: number): RefreshEvent | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const rest = m[2] as string;
  const duration = field(rest, "durationMs");
  const written = field(rest, "written");
  const sync = field(rest, "sync");
  const batch = field(rest, "batch");
  return {
    at,
    type: m[1] as RefreshEvent["type"],
    key: field(rest, "key") ?? "",
    job: field(rest, "job") ?? "",
    ...(duration !== undefined ? { durationMs: Number(duration) } : {}),
    ...(written !== undefined ? { written: written === "true" } : {}),
    ...(sync !== undefined ? { sync: sync === "true" } : {}),
    ...(batch !== undefined ? { batch: Number(batch) } : {}),
  };
}

/** Serves the built example with `next start` and `CACHEBACK_DEBUG=1`, with `env` on a clean environment. */
export async function startLoadExample(env: (port: number) => Record<string, string>): Promise<LoadExample> {
  const events: RefreshEvent[] = [];
  let reads = 0;
  let partial = "";
  // Refresh events are parsed and read events counted; every other line is kept for diagnostics.
  const onStdout = (chunk: string) => {
    const at = Date.now();
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    let kept = "";
    for (const line of lines) {
      const event = parseRefreshEvent(line, at);
      if (event) events.push(event);
      else if (/^\[next-cacheback\] (hit|stale|miss) /.test(line)) reads++;
      else kept += `${line}\n`;
    }
    return kept;
  };
  const server = await startNextServer({
    dir: EXAMPLE_DIR,
    env: (port) => ({ ...env(port), CACHEBACK_DEBUG: "1" }),
    // The refresh route answers a GET with 405 and touches nothing: a side-effect-free readiness probe.
    ready: { path: "/api/cacheback", status: 405 },
    timeoutMs: 30_000,
    onStdout,
    maxOutput: 200_000,
  });
  return { origin: server.origin, port: server.port, events, readEvents: () => reads, output: server.output, close: server.close };
}
