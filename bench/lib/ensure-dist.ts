/**
 * Imported first by the benchmark: builds the packages (the library and packages/dev) when a dist/ is
 * missing or older than its src/, so the run measures the code as it is.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function stale(packageDir: string): boolean {
  const built = join(packageDir, "dist", "index.js");
  return !existsSync(built) || statSync(built).mtimeMs < newest(join(packageDir, "src"));
}

if (stale(root) || stale(join(root, "packages", "dev"))) {
  console.log("dist/ is missing or older than src/: npm run build");
  execFileSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
}
