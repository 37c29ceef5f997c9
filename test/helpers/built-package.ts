import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Makes sure `dist/` and `packages/dev/dist/` exist for tests that run the package the way users do (child processes importing
 * the built files). `npm test` builds before running tests, so this only builds when run on its own.
 */
export function ensureBuilt(): void {
  if (!existsSync(`${ROOT}dist/index.js`) || !existsSync(`${ROOT}dist/bin.js`) || !existsSync(`${ROOT}packages/dev/dist/bin.js`)) {
    execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "ignore" });
  }
}
