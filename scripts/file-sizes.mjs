#!/usr/bin/env node
// Line counts of src/**/*.ts, largest first, flagging files over a limit (300 lines by default).
// Informational: always exits 0.
//
//   node scripts/file-sizes.mjs [--limit 300] [--root src] [--json]
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
let limit = 300;
let rootArg = "src";
let json = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--limit") limit = Number(argv[++i]);
  else if (a === "--root") rootArg = argv[++i] ?? "src";
  else if (a === "--json") json = true;
  else {
    console.error(`unknown argument: ${a}\nusage: node scripts/file-sizes.mjs [--limit 300] [--root src] [--json]`);
    process.exit(0);
  }
}
const root = resolve(repo, rootArg);

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : walk(path);
    return /\.(c|m)?tsx?$/.test(e.name) ? [path] : [];
  });
}

const rows = walk(root)
  .map((file) => {
    const text = readFileSync(file, "utf8");
    const lines = text.length === 0 ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    const blank = text.split("\n").filter((l) => l.trim() === "").length - (text.endsWith("\n") ? 1 : 0);
    return { file: relative(repo, file).replaceAll("\\", "/"), lines, nonBlank: lines - blank, over: lines > limit };
  })
  .sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file));

const total = rows.reduce((n, r) => n + r.lines, 0);
const over = rows.filter((r) => r.over);
if (json) {
  console.log(JSON.stringify({ root: rootArg, limit, total, files: rows }, null, 2));
} else {
  const width = Math.max(...rows.map((r) => String(r.lines).length), 5);
  for (const r of rows) console.log(`${String(r.lines).padStart(width)}  ${r.file}${r.over ? `   <-- over ${limit} lines` : ""}`);
  console.log(`${String(total).padStart(width)}  total, ${rows.length} files; ${over.length} over ${limit} lines${over.length ? `: ${over.map((r) => r.file).join(", ")}` : ""}`);
}
process.exit(0);
