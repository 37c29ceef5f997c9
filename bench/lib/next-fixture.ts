/**
 * The benchmark's own Next.js 16 app (bench/fixtures/remote-app): `next build` of a variant into a
 * directory of its own (skipped while the build is newer than the app's files and the package's dist/), and
 * `next start` processes of it, each on a free port with exactly the variables given.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { cleanEnv } from "../../test/e2e/example-app.js";
import { ensureBuilt, ROOT } from "../../test/helpers/built-package.js";
import { closedPort } from "../../test/helpers/recording-receiver.js";
import { until } from "./measure.js";

/** The fixture app's directory. */
export const FIXTURE_DIR = join(ROOT, "bench", "fixtures", "remote-app");
const NEXT_BIN = join(ROOT, "node_modules", "next", "dist", "bin", "next");

/** Which handler serves `'use cache: remote'`: next-cacheback's, or Next.js's default (in memory, per process). */
export type RemoteHandler = "next-cacheback" | "default";

function variantEnv(handler: RemoteHandler): Record<string, string> {
  return { BENCH_DIST_DIR: `.next-${handler}`, ...(handler === "next-cacheback" ? { BENCH_REMOTE_HANDLER: "next-cacheback" } : {}) };
}

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".next")) continue;
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Builds the variant unless its build is current; returns how long the build took, ms (0 when skipped). */
export function buildFixture(handler: RemoteHandler): number {
  ensureBuilt();
  const buildId = join(FIXTURE_DIR, `.next-${handler}`, "BUILD_ID");
  if (existsSync(buildId) && statSync(buildId).mtimeMs > Math.max(newest(FIXTURE_DIR), newest(join(ROOT, "dist")))) return 0;
  const started = Date.now();
  const result = spawnSync(process.execPath, [NEXT_BIN, "build"], { cwd: FIXTURE_DIR, env: cleanEnv(variantEnv(handler)), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`next build of the ${handler} variant failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  return Date.now() - started;
}

/** A running `next start` of the fixture. */
export interface FixtureServer {
  readonly origin: string;
  output(): string;
  close(): Promise<void>;
}

/** Serves the built variant with `next start` on 127.0.0.1 and a free port; resolves once it answers. */
export async function startFixture(handler: RemoteHandler, env: Record<string, string>): Promise<FixtureServer> {
  const port = await closedPort();
  const child: ChildProcess = spawn(process.execPath, [NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: FIXTURE_DIR,
    env: cleanEnv({ ...env, ...variantEnv(handler) }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
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
    await until(
      `next start on ${origin}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}:\n${output}`);
        return (await fetch(`${origin}/ready`).catch(() => undefined))?.status === 200;
      },
      60_000,
      100,
    );
  } catch (error) {
    await close();
    throw error;
  }
  return { origin, output: () => output, close };
}
