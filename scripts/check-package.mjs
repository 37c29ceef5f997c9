#!/usr/bin/env node
// Packs each published package once (the library at the root, and packages/dev), then lints each tarball
// with publint and @arethetypeswrong/cli. Fails (non-zero exit) on any problem either tool reports, and
// when the library's tarball or dependencies hold anything of the dev servers. Run after `npm run build`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PACKAGES = [".", "packages/dev"];

/** What only next-cacheback-dev may ship or depend on; an app's production install gets the library only. */
const DEV_ONLY_FILES = /^dist\/(dev\/|redis-rest|qstash-server|cli)/;
const DEV_ONLY_DEPENDENCIES = ["ioredis"];

/** Every path in the exports map must carry a `types` condition. */
function missingTypes(pkg) {
  const missing = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (subpath === "./package.json") continue;
    const walk = (node, trail) => {
      if (typeof node === "string") return;
      if (!("types" in node)) missing.push(trail);
      for (const [cond, next] of Object.entries(node)) if (cond !== "types") walk(next, `${trail} > ${cond}`);
    };
    if (typeof target === "string") missing.push(subpath);
    else walk(target, subpath);
  }
  return missing;
}

const dir = mkdtempSync(join(tmpdir(), "next-cacheback-pack-"));
try {
  for (const packageDir of PACKAGES) {
    const pkg = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
    const missing = missingTypes(pkg);
    if (missing.length > 0) {
      console.error(`${pkg.name}: exports entries without a "types" condition: ${missing.join(", ")}`);
      process.exit(1);
    }
    const out = execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: packageDir, encoding: "utf8" });
    const [{ filename, files }] = JSON.parse(out);
    const tarball = join(dir, filename);
    console.log(`packed ${filename}`);
    if (packageDir === ".") {
      const devFiles = files.map((file) => file.path).filter((path) => DEV_ONLY_FILES.test(path));
      const devDependencies = DEV_ONLY_DEPENDENCIES.filter((name) => name in (pkg.dependencies ?? {}));
      if (devFiles.length > 0 || devDependencies.length > 0) {
        console.error(`${pkg.name} ships dev-server code (${devFiles.join(", ") || "none"}) or dependencies (${devDependencies.join(", ") || "none"}): they belong to packages/dev.`);
        process.exit(1);
      }
    }
    execFileSync("npx", ["--no-install", "publint", "run", tarball, "--strict", "--level", "suggestion"], { stdio: "inherit" });
    execFileSync("npx", ["--no-install", "attw", tarball, "--profile", "esm-only", "--format", "table"], { stdio: "inherit" });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
