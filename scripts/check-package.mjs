#!/usr/bin/env node
// Packs the package once, then lints the tarball with publint and @arethetypeswrong/cli.
// Fails (non-zero exit) on any problem either tool reports. Run after `npm run build`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const pkg = JSON.parse(readFileSync("package.json", "utf8"));

// Every path in the exports map must carry a `types` condition.
const missingTypes = [];
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (subpath === "./package.json") continue;
  const walk = (node, trail) => {
    if (typeof node === "string") return;
    if (!("types" in node)) missingTypes.push(trail);
    for (const [cond, next] of Object.entries(node)) if (cond !== "types") walk(next, `${trail} > ${cond}`);
  };
  if (typeof target === "string") missingTypes.push(subpath);
  else walk(target, subpath);
}
if (missingTypes.length > 0) {
  console.error(`exports entries without a "types" condition: ${missingTypes.join(", ")}`);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), "next-cacheback-pack-"));
try {
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { encoding: "utf8" });
  const [{ filename }] = JSON.parse(out);
  const tarball = join(dir, filename);
  console.log(`packed ${filename}`);
  execFileSync("npx", ["--no-install", "publint", "run", tarball, "--strict", "--level", "suggestion"], { stdio: "inherit" });
  execFileSync("npx", ["--no-install", "attw", tarball, "--profile", "esm-only", "--format", "table"], { stdio: "inherit" });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
