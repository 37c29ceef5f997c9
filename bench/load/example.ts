/**
 * The example app under `next start` for the load run, with `CACHEBACK_DEBUG=1`: next-cacheback then logs
 * every event it emits in the server (one line each, on stdout). The refresh events are parsed as they
 * arrive and stamped with the time they arrived, so the run can count the refreshes that ran whichever way
 * they ran: delivered by QStash to the refresh route, or in process while QStash failed (those never reach
 * QStash). The example app itself is not changed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { cleanEnv, EXAMPLE_DIR } from "../../test/e2e/example-app.js";
import { ROOT } from "../../test/helpers/built-package.js";
import { closedPort } from "../../test/helpers/recording-receiver.js";
import { eventually } from "../../test/helpers/wait.js";

const NEXT_BIN = join(ROOT, "node_modules", "next", "dist", "bin", "next");

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
  const port = await closedPort();
  const child: ChildProcess = spawn(process.execPath, [NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: EXAMPLE_DIR,
    env: cleanEnv({ ...env(port), CACHEBACK_DEBUG: "1" }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const events: RefreshEvent[] = [];
  let reads = 0;
  let tail = "";
  const keep = (text: string) => (tail = (tail + text).slice(-200_000));
  let partial = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    const at = Date.now();
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      const event = parseRefreshEvent(line, at);
      if (event) events.push(event);
      else if (/^\[next-cacheback\] (hit|stale|miss) /.test(line)) reads++;
      else keep(`${line}\n`);
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => keep(chunk.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const origin = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    // The refresh route answers a GET with 405 and touches nothing: a side-effect-free readiness probe.
    await eventually(
      `next start on ${origin}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}:\n${tail}`);
        return (await fetch(`${origin}/api/cacheback`)).status === 405;
      },
      30_000,
    );
  } catch (error) {
    await close();
    throw error;
  }
  return { origin, port, events, readEvents: () => reads, output: () => tail, close };
}
