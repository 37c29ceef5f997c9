/**
 * Imported first by the benchmark: builds the package when dist/ is missing or older than src/, so the
 * run measures the code as it is.
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

const built = join(root, "dist", "index.js");
if (!existsSync(built) || !existsSync(join(root, "dist", "dev", "index.js")) || statSync(built).mtimeMs < newest(join(root, "src"))) {
  console.log("dist/ is missing or older than src/: npm run build");
  execFileSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
}
