import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ensureBuilt, ROOT } from "../helpers/built-package.js";
import { closedPort } from "../helpers/recording-receiver.js";
import { eventually } from "../helpers/wait.js";

/** The example app's directory. */
export const EXAMPLE_DIR = join(ROOT, "example-next-app");
const NEXT_BIN = join(ROOT, "node_modules", "next", "dist", "bin", "next");
const BUILD_ID = join(EXAMPLE_DIR, ".next", "BUILD_ID");

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

function newestMtime(dir: string, skip: ReadonlySet<string>): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(path, skip) : statSync(path).mtimeMs;
    newest = Math.max(newest, mtime);
  }
  return newest;
}

/** Whether `.next` was built after every source file of the example and of the package's `dist/`. */
export function exampleBuildIsCurrent(): boolean {
  if (!existsSync(BUILD_ID)) return false;
  const built = statSync(BUILD_ID).mtimeMs;
  const sources = Math.max(
    newestMtime(EXAMPLE_DIR, new Set([".next", "node_modules", "next-env.d.ts", "tsconfig.tsbuildinfo"])),
    newestMtime(join(ROOT, "dist"), new Set()),
  );
  return built > sources;
}

/**
 * Builds the package (when `dist/` is missing) and the example with `next build`, unless the example's
 * build is newer than all of its sources. Returns how long the build took, in ms (0 when skipped).
 */
export function buildExample(): number {
  ensureBuilt();
  if (exampleBuildIsCurrent()) return 0;
  const started = Date.now();
  const result = spawnSync(process.execPath, [NEXT_BIN, "build"], {
    cwd: EXAMPLE_DIR,
    env: cleanEnv(),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`next build of the example failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return Date.now() - started;
}

/** A running `next start` of the example. */
export interface ExampleServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  /** Everything the server printed so far. */
  output(): string;
  close(): Promise<void>;
}

/**
 * Serves the built example with `next start` on 127.0.0.1 and a free port, with exactly the given
 * variables on top of a clean environment, and waits until it answers HTTP.
 */
export async function startExample(env: Record<string, string> | ((port: number) => Record<string, string>)): Promise<ExampleServer> {
  const port = await closedPort();
  const extra = typeof env === "function" ? env(port) : env;
  const child: ChildProcess = spawn(process.execPath, [NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: EXAMPLE_DIR,
    env: cleanEnv(extra),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const origin = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    // The refresh route answers a GET with 405 and touches nothing: a side-effect-free readiness probe.
    await eventually(
      `next start on ${origin}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}:\n${output}`);
        return (await fetch(`${origin}/api/cacheback`)).status === 405;
      },
      30_000,
    );
  } catch (error) {
    await close();
    throw error;
  }
  return { origin, port, output: () => output, close };
}
