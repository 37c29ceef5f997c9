#!/usr/bin/env node
// Builds the library as it was at a git ref, for the benchmarks' --dist (hit-micro.ts, hit-profile.ts):
//
//   node bench/otel/build-ref.mjs REF NAME      -> bench/.tmp/variants/NAME/dist
//
// The ref's src/, tsconfig files and package.json are taken with `git archive` (this work tree is not
// touched) and compiled with this checkout's TypeScript; the build resolves its dependencies from this
// checkout's node_modules.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const [ref, name] = process.argv.slice(2);
if (!ref || !name || !/^[\w.-]+$/.test(name)) {
  console.error("usage: node bench/otel/build-ref.mjs REF NAME");
  process.exit(2);
}
const dir = join(root, "bench/.tmp/variants", name);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const archive = execFileSync("git", ["archive", "--format=tar", ref, "src", "tsconfig.json", "tsconfig.build.json", "package.json"], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
execFileSync("tar", ["-x", "-C", dir], { input: archive });
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.build.json")], { cwd: dir, stdio: "inherit" });
const commit = execFileSync("git", ["rev-parse", "--short", ref], { cwd: root, encoding: "utf8" }).trim();
console.log(`${ref} (${commit}) built into ${join(dir, "dist")}`);
