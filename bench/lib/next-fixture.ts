/**
 * The benchmark's own Next.js 16 app (bench/fixtures/remote-app): `next build` of a variant into a
 * directory of its own (skipped while the build is newer than the app's files and the package's dist/), and
 * `next start` processes of it, each on a free port with exactly the variables given.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { ensureBuilt, ROOT } from "../../test/helpers/built-package.js";
import { newestMtime, nextBuild, startNextServer, type NextServer } from "../../test/helpers/next-app.js";

/** The fixture app's directory. */
export const FIXTURE_DIR = join(ROOT, "bench", "fixtures", "remote-app");

/** Which handler serves `'use cache: remote'`: next-cacheback's, or Next.js's default (in memory, per process). */
export type RemoteHandler = "next-cacheback" | "default";

function variantEnv(handler: RemoteHandler): Record<string, string> {
  return { BENCH_DIST_DIR: `.next-${handler}`, ...(handler === "next-cacheback" ? { BENCH_REMOTE_HANDLER: "next-cacheback" } : {}) };
}

/** The newest source of a build: the fixture's files (not its builds) or the package's dist/. */
const newest = (dir: string) => newestMtime(dir, (name) => name.startsWith(".next"));

/** Builds the variant unless its build is current; returns how long the build took, ms (0 when skipped). */
export function buildFixture(handler: RemoteHandler): number {
  ensureBuilt();
  const buildId = join(FIXTURE_DIR, `.next-${handler}`, "BUILD_ID");
  if (existsSync(buildId) && statSync(buildId).mtimeMs > Math.max(newest(FIXTURE_DIR), newest(join(ROOT, "dist")))) return 0;
  return nextBuild(FIXTURE_DIR, variantEnv(handler), `the ${handler} variant`);
}

/** A running `next start` of the fixture. */
export type FixtureServer = NextServer;

/** Serves the built variant with `next start` on 127.0.0.1 and a free port; resolves once it answers. */
export function startFixture(handler: RemoteHandler, env: Record<string, string>): Promise<FixtureServer> {
  return startNextServer({ dir: FIXTURE_DIR, env: () => ({ ...env, ...variantEnv(handler) }), ready: { path: "/ready", status: 200 }, timeoutMs: 60_000 });
}
