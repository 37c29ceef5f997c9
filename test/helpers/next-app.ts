/**
 * A Next.js app of this repository (the example, or the benchmark's fixture) built with `next build` and
 * served with `next start`, in an environment that holds only the variables the caller gives: shared by
 * the e2e suites, the load run and the benchmarks.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./built-package.js";
import { closedPort } from "./recording-receiver.js";
import { eventually } from "./wait.js";

const NEXT_BIN = join(ROOT, "node_modules", "next", "dist", "bin", "next");

/** Variables the example or the library read; the app gets only those a test sets. */
const OWN_VARIABLES = /^(UPSTASH_|QSTASH_|CACHEBACK_|KV_REST_|EXAMPLE_|NODE_ENV$|PORT$|__NEXT)/;

/**
 * Every variable the library or the example reads. A test sets each one, empty when it does not use it:
 * Next.js never lets a `.env*` file override a variable that is set, and both treat empty as unset, so a
 * developer's `example-next-app/.env.local` cannot leak into a test.
 */
const SHIELDED = [
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "KV_REST_API_URL",
  "KV_REST_API_TOKEN",
  "QSTASH_URL",
  "QSTASH_TOKEN",
  "QSTASH_DEV",
  "QSTASH_CURRENT_SIGNING_KEY",
  "QSTASH_NEXT_SIGNING_KEY",
  "CACHEBACK_REFRESH_URL",
  "CACHEBACK_PREFIX",
  "CACHEBACK_DEBUG",
  "CACHEBACK_READ_TIMEOUT",
  "EXAMPLE_SOURCE_DELAY_MS",
  "EXAMPLE_LIFETIME",
  "EXAMPLE_FAILING_SYMBOLS",
];

/** The parent's environment without anything that would configure the example or the library, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !OWN_VARIABLES.test(name) && !name.startsWith("VITEST")) env[name] = value;
  }
  for (const name of SHIELDED) env[name] = "";
  return { ...env, NEXT_TELEMETRY_DISABLED: "1", ...extra };
}

/** The newest modification time of the files under `dir`, leaving out entries whose name `skip` accepts. */
export function newestMtime(dir: string, skip: (name: string) => boolean): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip(entry.name)) continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path, skip) : statSync(path).mtimeMs);
  }
  return newest;
}

/** `next build` of the app in `dir` with `env` on a clean environment; throws with its output when it fails. Returns its duration, ms. */
export function nextBuild(dir: string, env: Record<string, string>, what: string): number {
  const started = Date.now();
  const result = spawnSync(process.execPath, [NEXT_BIN, "build"], { cwd: dir, env: cleanEnv(env), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`next build of ${what} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  return Date.now() - started;
}

/** How {@link startNextServer} serves an app. */
export interface NextServerOptions {
  /** The built app's directory. */
  dir: string;
  /** Variables on top of a clean environment ({@link cleanEnv}), given the port the app will listen on. */
  env: (port: number) => Record<string, string>;
  /** A path that answers `status` once the app serves, and changes nothing. */
  ready: { path: string; status: number };
  /** How long the app may take to answer, ms. */
  timeoutMs: number;
  /** Takes each chunk of stdout and returns what of it to keep in the output (all of it when absent). */
  onStdout?: (chunk: string) => string;
  /** The output keeps at most this many of the last characters (all of them when absent). */
  maxOutput?: number;
}

/** A running `next start`. */
export interface NextServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  /** What the server printed so far (see {@link NextServerOptions.onStdout} and `maxOutput`). */
  output(): string;
  /** Stops it: SIGTERM, then SIGKILL after 5 s. */
  close(): Promise<void>;
}

/**
 * Serves a built app with `next start` on 127.0.0.1 and a free port, and resolves once it answers its
 * readiness probe. If the process exits first, or the time runs out, it is stopped and the promise
 * rejects with what it printed.
 */
export async function startNextServer(options: NextServerOptions): Promise<NextServer> {
  const port = await closedPort();
  const child: ChildProcess = spawn(process.execPath, [NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: options.dir,
    env: cleanEnv(options.env(port)),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (text: string) => {
    output += text;
    if (options.maxOutput !== undefined && output.length > options.maxOutput) output = output.slice(-options.maxOutput);
  };
  child.stdout?.on("data", (chunk: Buffer) => keep(options.onStdout ? options.onStdout(chunk.toString("utf8")) : chunk.toString("utf8")));
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
  const exitedEarly = exited.then(() => {
    throw new Error(`next start exited with ${child.exitCode ?? child.signalCode}:\n${output}`);
  });
  exitedEarly.catch(() => undefined); // it also settles when the server is closed later
  try {
    const { path, status } = options.ready;
    await Promise.race([eventually(`next start on ${origin}`, async () => (await fetch(`${origin}${path}`)).status === status, options.timeoutMs), exitedEarly]);
  } catch (error) {
    await close();
    throw error;
  }
  return { origin, port, output: () => output, close };
}
