import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { ensureBuilt, ROOT } from "../helpers/built-package.js";
import { newestMtime, nextBuild, startNextServer, type NextServer } from "../helpers/next-app.js";

/** The example app's directory. */
export const EXAMPLE_DIR = join(ROOT, "example-next-app");
const BUILD_ID = join(EXAMPLE_DIR, ".next", "BUILD_ID");
/** What in the example's directory is not a source of its build. */
const EXAMPLE_SKIP: ReadonlySet<string> = new Set([".next", "node_modules", "next-env.d.ts", "tsconfig.tsbuildinfo"]);

/** Whether `.next` was built after every source file of the example and of the package's `dist/`. */
export function exampleBuildIsCurrent(): boolean {
  if (!existsSync(BUILD_ID)) return false;
  const built = statSync(BUILD_ID).mtimeMs;
  const sources = Math.max(
    newestMtime(EXAMPLE_DIR, (name) => EXAMPLE_SKIP.has(name)),
    newestMtime(join(ROOT, "dist"), () => false),
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
  return nextBuild(EXAMPLE_DIR, {}, "the example");
}

/** A running `next start` of the example: everything it printed is in `output()`. */
export type ExampleServer = NextServer;

/**
 * Serves the built example with `next start` on 127.0.0.1 and a free port, with exactly the given
 * variables on top of a clean environment, and waits until it answers HTTP.
 */
export function startExample(env: Record<string, string> | ((port: number) => Record<string, string>)): Promise<ExampleServer> {
  return startNextServer({
    dir: EXAMPLE_DIR,
    env: typeof env === "function" ? env : () => env,
    // The refresh route answers a GET with 405 and touches nothing: a side-effect-free readiness probe.
    ready: { path: "/api/cacheback", status: 405 },
    timeoutMs: 30_000,
  });
}
