#!/usr/bin/env node
// What an app's server bundle pays for next-cacheback: bundles the BUILT package (run `npm run build`
// first; this script builds nothing of the library) with esbuild, minified, code-split, and reports
//   - the static part: the entry chunk plus every chunk it imports statically (transitively), which a
//     cold start loads before the first line of the app runs;
//   - the lazy part: chunks reached only through a dynamic `import()`;
//   - the 15 input files that weigh most in the static part, and the static part by package.
// The peer dependencies (@upstash/*, @opentelemetry/api, next, react) and server-only stay external: the app has them anyway.
//
//   node scripts/bundle-size.mjs                       dist/index.js
//   node scripts/bundle-size.mjs --entry dist/dev/index.js
//   node scripts/bundle-size.mjs --json                machine-readable
//   node scripts/bundle-size.mjs --max 38099 --json    also fails (exit 1) when the static part is larger than that (npm run check:size)
import { existsSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function usage(message) {
  if (message) console.error(message);
  console.error("usage: node scripts/bundle-size.mjs [--entry dist/index.js] [--json] [--top 15] [--max BYTES]");
  process.exit(2);
}

let entry = "dist/index.js";
let json = false;
let top = 15;
let max;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--json") json = true;
  else if (a === "--entry") entry = argv[++i] ?? usage("--entry needs a path");
  else if (a.startsWith("--entry=")) entry = a.slice("--entry=".length);
  else if (a === "--top") top = Number(argv[++i]);
  else if (a === "--max") max = Number(argv[++i]);
  else if (a === "-h" || a === "--help") usage();
  else usage(`unknown argument: ${a}`);
}
if (!Number.isInteger(top) || top < 1) usage("--top needs a positive integer");
if (max !== undefined && !(Number.isInteger(max) && max > 0)) usage("--max needs a positive number of bytes");

const entryAbs = isAbsolute(entry) ? entry : resolve(root, entry);
if (!existsSync(entryAbs)) {
  console.error(`${relative(root, entryAbs)} does not exist: run \`npm run build\` first.`);
  process.exit(2);
}

let build;
try {
  ({ build } = await import("esbuild"));
} catch (error) {
  console.error(
    `esbuild cannot be resolved from ${root} (it normally comes with vite and tsx): ${error instanceof Error ? error.message : error}`,
  );
  process.exit(2);
}

const EXTERNAL = ["@upstash/*", "@opentelemetry/api", "next", "next/*", "react", "server-only"];
// Written nowhere (write: false); esbuild needs an outdir to split, and names chunks relative to it.
const outdir = resolve(root, ".bundle-size-out");
const result = await build({
  absWorkingDir: root,
  entryPoints: [entryAbs],
  bundle: true,
  minify: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: EXTERNAL,
  outdir,
  write: false,
  metafile: true,
  logLevel: "silent",
  legalComments: "none",
});

const { outputs } = result.metafile;
const contents = new Map(result.outputFiles.map((f) => [relative(root, f.path), f.contents]));
const entryInput = relative(root, entryAbs);
const entryOut = Object.keys(outputs).find((o) => outputs[o].entryPoint === entryInput);
if (!entryOut) throw new Error(`no output chunk has entryPoint ${entryInput} (outputs: ${Object.keys(outputs).join(", ")})`);

/** Chunks reachable from `from` over imports whose kind passes `follow` (externals excluded). */
function reach(from, follow) {
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length > 0) {
    const out = outputs[queue.shift()];
    for (const imp of out.imports) {
      if (imp.external || !follow(imp.kind) || seen.has(imp.path) || !outputs[imp.path]) continue;
      seen.add(imp.path);
      queue.push(imp.path);
    }
  }
  return seen;
}

const staticChunks = reach(entryOut, (kind) => kind === "import-statement");
const allReachable = reach(entryOut, (kind) => kind === "import-statement" || kind === "dynamic-import");
const jsChunks = Object.keys(outputs).filter((o) => !o.endsWith(".map"));
const lazyChunks = jsChunks.filter((o) => !staticChunks.has(o));

const gzip = (chunks) => chunks.reduce((n, o) => n + gzipSync(contents.get(o) ?? new Uint8Array(), { level: 9 }).length, 0);
const bytes = (chunks) => chunks.reduce((n, o) => n + outputs[o].bytes, 0);

/** Which dynamic imports lead into a lazy chunk (its first importer through `import()`). */
const dynamicImporters = new Map();
for (const o of jsChunks) {
  for (const imp of outputs[o].imports) {
    if (imp.kind === "dynamic-import" && !imp.external) dynamicImporters.set(imp.path, [...(dynamicImporters.get(imp.path) ?? []), o]);
  }
}

/** Externals imported by a set of chunks, by kind. */
function externals(chunks) {
  const found = { static: new Set(), dynamic: new Set() };
  for (const o of chunks) {
    for (const imp of outputs[o].imports) {
      if (!imp.external) continue;
      (imp.kind === "dynamic-import" ? found.dynamic : found.static).add(imp.path);
    }
  }
  return { static: [...found.static].sort(), dynamic: [...found.dynamic].sort() };
}

/** Input files by bytes in the output, summed over `chunks`. */
function inputsOf(chunks) {
  const byInput = new Map();
  for (const o of chunks) {
    for (const [input, { bytesInOutput }] of Object.entries(outputs[o].inputs)) {
      byInput.set(input, (byInput.get(input) ?? 0) + bytesInOutput);
    }
  }
  return [...byInput].map(([input, b]) => ({ input, bytes: b })).sort((a, b) => b.bytes - a.bytes);
}

/** The package an input belongs to: `next-cacheback` for the package's own files, else the node_modules name. */
function packageOf(input) {
  const parts = input.replaceAll("\\", "/").split("node_modules/");
  if (parts.length === 1) return "next-cacheback";
  const last = parts.at(-1);
  return last.startsWith("@") ? last.split("/").slice(0, 2).join("/") : last.split("/")[0];
}

const staticList = [...staticChunks];
const staticInputs = inputsOf(staticList);
const byPackage = new Map();
for (const { input, bytes: b } of staticInputs) byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + b);

/** next-cacheback's own inputs by directory (dist/qstash/, dist/queues/...), to see what a subsystem weighs. */
const ownByDir = new Map();
for (const { input, bytes: b } of staticInputs) {
  if (packageOf(input) !== "next-cacheback") continue;
  const dir = input.replaceAll("\\", "/").split("/").slice(0, -1).join("/") + "/";
  ownByDir.set(dir, (ownByDir.get(dir) ?? 0) + b);
}

const chunkRow = (o) => ({
  chunk: relative(outdir, resolve(root, o)),
  bytes: outputs[o].bytes,
  gzipBytes: gzipSync(contents.get(o) ?? new Uint8Array(), { level: 9 }).length,
  ...(dynamicImporters.has(o) ? { importedDynamicallyBy: dynamicImporters.get(o).map((p) => relative(outdir, resolve(root, p))) } : {}),
  topInputs: inputsOf([o])
    .slice(0, 3)
    .map((x) => x.input),
});

const report = {
  entry: entryInput,
  esbuild: (await import("esbuild")).version,
  options: { bundle: true, minify: true, splitting: true, format: "esm", platform: "node", target: "node20", external: EXTERNAL },
  static: {
    bytes: bytes(staticList),
    kB: bytes(staticList) / 1000,
    gzipBytes: gzip(staticList),
    chunks: staticList.map(chunkRow),
    externals: externals(staticList).static,
  },
  lazy: {
    bytes: bytes(lazyChunks),
    kB: bytes(lazyChunks) / 1000,
    gzipBytes: gzip(lazyChunks),
    chunks: lazyChunks.map(chunkRow),
    unreachable: lazyChunks.filter((o) => !allReachable.has(o)).map((o) => relative(outdir, resolve(root, o))),
  },
  externalDynamicImports: externals(jsChunks).dynamic,
  topStaticInputs: staticInputs.slice(0, top),
  staticByPackage: [...byPackage].map(([pkg, b]) => ({ package: pkg, bytes: b })).sort((a, b) => b.bytes - a.bytes),
  staticOwnByDirectory: [...ownByDir].map(([dir, b]) => ({ directory: dir, bytes: b })).sort((a, b) => b.bytes - a.bytes),
};

/** With --max: fails when the static part is over the budget. The verdict goes to stderr (it shows with --json too). */
function checkBudget() {
  if (max === undefined) return;
  if (report.static.bytes > max) {
    console.error(`bundle-size: the static part is ${report.static.bytes} bytes, over the budget of ${max}: move what a hit does not need behind import(), or raise the budget on purpose.`);
    process.exit(1);
  }
  console.error(`bundle-size: the static part is ${report.static.bytes} bytes, within the budget of ${max}.`);
}

if (json) {
  console.log(JSON.stringify(report, null, 2));
  checkBudget();
  process.exit(0);
}

const kB = (b) => `${(b / 1000).toFixed(1)} kB`;
const pad = (s, n) => String(s).padStart(n);
console.log(`${entryInput}, bundled by esbuild ${report.esbuild} (minify, splitting, esm, platform node; external: ${EXTERNAL.join(" ")})`);
console.log("");
console.log(`static (loaded with the entry): ${report.static.bytes} bytes = ${kB(report.static.bytes)} (gzip ${kB(report.static.gzipBytes)}), ${staticList.length} chunk(s)`);
for (const c of report.static.chunks) console.log(`  ${pad(c.bytes, 8)}  ${c.chunk}  [${c.topInputs.join(", ")}]`);
console.log(`  external imports: ${report.static.externals.join(", ") || "none"}`);
console.log(`lazy (dynamic import() only):   ${report.lazy.bytes} bytes = ${kB(report.lazy.bytes)} (gzip ${kB(report.lazy.gzipBytes)}), ${lazyChunks.length} chunk(s)`);
for (const c of report.lazy.chunks) {
  console.log(`  ${pad(c.bytes, 8)}  ${c.chunk}  [${c.topInputs.join(", ")}]${c.importedDynamicallyBy ? ` <- import() in ${c.importedDynamicallyBy.join(", ")}` : ""}`);
}
console.log(`  external dynamic imports: ${report.externalDynamicImports.join(", ") || "none"}`);
console.log("");
console.log(`top ${top} inputs of the static part (bytes in the minified output):`);
for (const x of report.topStaticInputs) console.log(`  ${pad(x.bytes, 8)}  ${x.input}`);
console.log("");
console.log("static part by package:");
for (const x of report.staticByPackage) console.log(`  ${pad(x.bytes, 8)}  ${pad(kB(x.bytes), 9)}  ${x.package}`);
console.log("");
console.log("next-cacheback's own files in the static part, by directory:");
for (const x of report.staticOwnByDirectory) console.log(`  ${pad(x.bytes, 8)}  ${pad(kB(x.bytes), 9)}  ${x.directory}`);
console.log("");
console.log("(bytes in the output are esbuild's bytesInOutput per input; they do not add up to the chunk size, which also holds the module glue.)");
checkBudget();
