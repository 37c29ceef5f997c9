#!/usr/bin/env node
// The import graph of src/**/*.ts (relative imports only) and its cycles. Every edge counts, type-only
// ones included (`import type`, `export type ... from`, `import { type X }`, `typeof import("./x.js")`),
// and dynamic `import("./x.js")` too; each edge is labelled with its kind. No dependency: comments are
// blanked by a small lexer (strings, template literals and regex literals respected), then the import
// and export-from statements are matched, multi-line ones included.
//
//   node scripts/import-graph.mjs                 prints every cycle as a path; exit 1 if there is one
//   node scripts/import-graph.mjs --print         the adjacency list (then the cycles)
//   node scripts/import-graph.mjs --dot           Graphviz DOT (cycle edges in red); exit code as above
//   node scripts/import-graph.mjs --runtime-only  ignore type-only edges (what is left exists at run time)
//   node scripts/import-graph.mjs --root DIR      another source root (default src)
//
// Edge kinds: value (a static import that stays in the JS), type (erased by the compiler), dynamic
// (`import()` at run time), type-dynamic (`typeof import()` / `import()` in a type position).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function usage(message) {
  if (message) console.error(message);
  console.error("usage: node scripts/import-graph.mjs [--print] [--dot] [--runtime-only] [--root src] [--max-cycles 1000]");
  process.exit(2);
}

let print = false;
let dot = false;
let runtimeOnly = false;
let rootArg = "src";
let maxCycles = 1000;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--print") print = true;
  else if (a === "--dot") dot = true;
  else if (a === "--runtime-only") runtimeOnly = true;
  else if (a === "--root") rootArg = argv[++i] ?? usage("--root needs a directory");
  else if (a === "--max-cycles") maxCycles = Number(argv[++i]);
  else if (a === "-h" || a === "--help") usage();
  else usage(`unknown argument: ${a}`);
}
if (!Number.isInteger(maxCycles) || maxCycles < 1) usage("--max-cycles needs a positive integer");
const root = resolve(repo, rootArg);

// --- files ---------------------------------------------------------------------------------------

function walk(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") found.push(...walk(path));
    } else if (/\.(c|m)?tsx?$/.test(entry.name)) {
      found.push(path);
    }
  }
  return found;
}

const files = walk(root).sort();
const fileSet = new Set(files);

// --- lexer: blank out comments, keep everything else at its offset ------------------------------

const REGEX_AFTER_CHAR = new Set([..."(,=:[!&|?{};+-*%<>~^"]);
const REGEX_AFTER_WORD = new Set(["return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "yield", "await", "instanceof"]);

/**
 * `source` with every comment replaced by spaces (newlines kept), so offsets and line numbers hold, and
 * the ranges of string and template text, where an `import` is only text.
 */
function lex(source) {
  const out = source.split("");
  const literals = [];
  const n = source.length;
  // Brace depths at which a template literal's `${` was opened.
  const templateStack = [];
  let braceDepth = 0;
  let i = 0;
  let lastSignificant = ""; // last non-space character of code
  let lastWord = "";
  const blank = (from, to) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  const skipString = (quote) => {
    const start = i;
    i++;
    while (i < n && source[i] !== quote) {
      if (source[i] === "\\") i++;
      else if (source[i] === "\n") break; // unterminated: stop at the line end
      i++;
    }
    i++;
    literals.push([start, i]);
  };
  /** Skips template text from i (just past a backtick or a closing `}`) to the end or to `${`. */
  const skipTemplate = () => {
    const start = i;
    const done = () => literals.push([start, i]);
    while (i < n) {
      const c = source[i];
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === "`") {
        i++;
        done();
        return;
      }
      if (c === "$" && source[i + 1] === "{") {
        done();
        i += 2;
        templateStack.push(braceDepth);
        braceDepth++;
        return;
      }
      i++;
    }
    done();
  };
  while (i < n) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      const stop = end === -1 ? n : end;
      blank(i, stop);
      i = stop;
      continue;
    }
    if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end === -1 ? n : end + 2;
      blank(i, stop);
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") {
      skipString(c);
      lastSignificant = c;
      lastWord = "";
      continue;
    }
    if (c === "`") {
      i++;
      skipTemplate();
      lastSignificant = "`";
      lastWord = "";
      continue;
    }
    if (c === "/") {
      const isRegex = lastSignificant === "" || REGEX_AFTER_CHAR.has(lastSignificant) || REGEX_AFTER_WORD.has(lastWord);
      if (isRegex) {
        i++;
        let inClass = false;
        while (i < n && source[i] !== "\n") {
          const r = source[i];
          if (r === "\\") i++;
          else if (r === "[") inClass = true;
          else if (r === "]") inClass = false;
          else if (r === "/" && !inClass) break;
          i++;
        }
        i++;
        while (i < n && /[a-z]/i.test(source[i])) i++; // flags
        lastSignificant = "/";
        lastWord = "";
        continue;
      }
    }
    if (c === "{") braceDepth++;
    if (c === "}") {
      braceDepth--;
      if (templateStack.length > 0 && templateStack.at(-1) === braceDepth) {
        templateStack.pop();
        i++;
        skipTemplate();
        lastSignificant = "`";
        lastWord = "";
        continue;
      }
    }
    if (/[A-Za-z_$0-9]/.test(c)) {
      let j = i;
      while (j < n && /[A-Za-z_$0-9]/.test(source[j])) j++;
      lastWord = source.slice(i, j);
      lastSignificant = source[j - 1];
      i = j;
      continue;
    }
    if (!/\s/.test(c)) {
      lastSignificant = c;
      lastWord = "";
    }
    i++;
  }
  return { text: out.join(""), literals };
}

/** Whether `offset` lies inside one of `ranges` (sorted by start, not overlapping). */
function inside(ranges, offset) {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (offset < ranges[mid][0]) hi = mid - 1;
    else if (offset >= ranges[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
}

// --- imports -------------------------------------------------------------------------------------

// `import|export [type] <clause> from "x"`: the clause is identifiers, braces, commas, `*`, `as`, `type`.
const FROM = /(?<![\w$.])(import|export)(\s+type)?(\s*[\w$\s{},*]*?)\s*from\s*(["'])([^"'\n]+)\4/g;
// `import "x"` (side effects only).
const BARE = /(?<![\w$.])import\s*(["'])([^"'\n]+)\1/g;
// `import("x")`, possibly as `typeof import("x")` or in another type position.
const DYNAMIC = /(?<![\w$.])import\s*\(\s*(["'`])([^"'`\n]+)\1\s*[,)]/g;

/** Whether a named-import clause brings in only types (`{ type A, type B }`, no default or namespace). */
function clauseIsTypeOnly(clause) {
  const m = /^\s*\{([\s\S]*)\}\s*$/.exec(clause);
  if (!m) return false;
  const names = m[1]
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return names.length > 0 && names.every((s) => /^type\s+/.test(s));
}

/** Whether `import(` at `offset` sits in a type position (`typeof import(`, `: import(`, `<import(`). */
function dynamicIsType(text, offset) {
  const before = text.slice(Math.max(0, offset - 40), offset);
  return /(?:\btypeof\s*|[:<|&]\s*|\bextends\s+)$/.test(before);
}

function lineOf(text, offset) {
  let line = 1;
  for (let k = 0; k < offset; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}

/** The source file a relative specifier names: `./x.js` → `./x.ts`, `./dir` → `./dir/index.ts`. */
function resolveSpecifier(from, spec) {
  const base = resolve(dirname(from), spec);
  const candidates = [];
  const swapped = base.replace(/\.(m|c)?js$/, (_m, k) => `.${k ?? ""}ts`);
  candidates.push(swapped, swapped.replace(/\.ts$/, ".tsx"), base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts"), join(base, "index.tsx"));
  for (const c of candidates) if (fileSet.has(c)) return c;
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** @type {Map<string, Map<string, {kinds: Set<string>, lines: number[]}>>} */
const graph = new Map(files.map((f) => [f, new Map()]));
const unresolved = [];
let externalCount = 0;

for (const file of files) {
  const { text, literals } = lex(readFileSync(file, "utf8"));
  literals.sort((a, b) => a[0] - b[0]);
  const found = [];
  for (const m of text.matchAll(FROM)) {
    const typeOnly = Boolean(m[2]) || clauseIsTypeOnly(m[3]);
    found.push({ spec: m[5], kind: typeOnly ? "type" : "value", offset: m.index });
  }
  for (const m of text.matchAll(BARE)) found.push({ spec: m[2], kind: "value", offset: m.index });
  for (const m of text.matchAll(DYNAMIC)) found.push({ spec: m[2], kind: dynamicIsType(text, m.index) ? "type-dynamic" : "dynamic", offset: m.index });
  for (const { spec, kind, offset } of found) {
    if (inside(literals, offset)) continue; // an import inside a string or template text
    if (!spec.startsWith(".")) {
      externalCount++;
      continue;
    }
    const target = resolveSpecifier(file, spec);
    const line = lineOf(text, offset);
    if (!target) {
      unresolved.push(`${rel(file)}:${line} ${spec}`);
      continue;
    }
    if (!fileSet.has(target)) continue; // outside the root
    if (runtimeOnly && (kind === "type" || kind === "type-dynamic")) continue;
    const edges = graph.get(file);
    const edge = edges.get(target) ?? { kinds: new Set(), lines: [] };
    edge.kinds.add(kind);
    edge.lines.push(line);
    edges.set(target, edge);
  }
}

function rel(file) {
  return relative(repo, file).replaceAll("\\", "/");
}

/** The strongest kind of an edge, for labels: value > dynamic > type > type-dynamic. */
function label(edge) {
  for (const k of ["value", "dynamic", "type", "type-dynamic"]) if (edge.kinds.has(k)) return k;
  return [...edge.kinds][0];
}

// --- cycles: strongly connected components (Tarjan), then elementary cycles in each (Johnson) ----

function stronglyConnected() {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const components = [];
  const visit = (v) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v).keys()) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), indices.get(w)));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v).has(v)) components.push(component.sort());
    }
  };
  for (const f of files) if (!indices.has(f)) visit(f);
  return components;
}

/** Elementary cycles inside one component (Johnson's algorithm), at most `limit`. */
function cyclesIn(component, limit) {
  const order = [...component].sort();
  const cycles = [];
  for (let s = 0; s < order.length && cycles.length < limit; s++) {
    const start = order[s];
    const allowed = new Set(order.slice(s));
    const blocked = new Set();
    const blockMap = new Map();
    const path = [];
    const unblock = (u) => {
      blocked.delete(u);
      const set = blockMap.get(u);
      if (!set) return;
      blockMap.delete(u);
      for (const w of set) if (blocked.has(w)) unblock(w);
    };
    const circuit = (v) => {
      let closed = false;
      path.push(v);
      blocked.add(v);
      for (const w of graph.get(v).keys()) {
        if (!allowed.has(w)) continue;
        if (cycles.length >= limit) break;
        if (w === start) {
          cycles.push([...path, start]);
          closed = true;
        } else if (!blocked.has(w) && circuit(w)) {
          closed = true;
        }
      }
      if (closed) unblock(v);
      else
        for (const w of graph.get(v).keys()) {
          if (!allowed.has(w)) continue;
          if (!blockMap.has(w)) blockMap.set(w, new Set());
          blockMap.get(w).add(v);
        }
      path.pop();
      return closed;
    };
    circuit(start);
  }
  return cycles;
}

const components = stronglyConnected();
const cycles = [];
let truncated = false;
for (const component of components) {
  const found = cyclesIn(component, maxCycles - cycles.length);
  cycles.push(...found);
  if (cycles.length >= maxCycles) {
    truncated = true;
    break;
  }
}
cycles.sort((a, b) => a.length - b.length || a.join().localeCompare(b.join()));

const cycleEdges = new Set();
for (const c of cycles) for (let k = 0; k + 1 < c.length; k++) cycleEdges.add(`${c[k]}\0${c[k + 1]}`);

function describeCycle(cycle) {
  let text = rel(cycle[0]);
  const kinds = new Set();
  for (let k = 0; k + 1 < cycle.length; k++) {
    const edge = graph.get(cycle[k]).get(cycle[k + 1]);
    kinds.add(label(edge));
    text += ` -[${label(edge)} :${edge.lines.join(",")}]-> ${rel(cycle[k + 1])}`;
  }
  // A cycle exists at run time only when none of its edges is erased by the compiler.
  const erased = kinds.has("type") || kinds.has("type-dynamic");
  const what = erased ? "closed by a type-only edge: erased at run time" : kinds.has("dynamic") ? "at run time, through import()" : "at run time";
  return `${text}   [${what}]`;
}

// --- output --------------------------------------------------------------------------------------

if (dot) {
  const lines = ["digraph imports {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica", fontsize=10];'];
  for (const f of files) lines.push(`  "${relative(root, f)}";`);
  for (const [from, edges] of graph) {
    for (const [to, edge] of edges) {
      const kind = label(edge);
      const style = kind === "value" ? "solid" : kind === "dynamic" ? "dotted" : "dashed";
      const attrs = [`style=${style}`, `label="${kind === "value" ? "" : kind}"`];
      if (cycleEdges.has(`${from}\0${to}`)) attrs.push("color=red", "fontcolor=red", "penwidth=2");
      lines.push(`  "${relative(root, from)}" -> "${relative(root, to)}" [${attrs.join(", ")}];`);
    }
  }
  lines.push("}");
  console.log(lines.join("\n"));
  process.exit(cycles.length > 0 ? 1 : 0);
}

const edgeCount = [...graph.values()].reduce((n, e) => n + e.size, 0);
if (print) {
  console.log(
    `import graph of ${rel(root)}/ (${files.length} files, ${edgeCount} relative edges${runtimeOnly ? ", type-only edges left out" : ""}; ` +
      `${externalCount} imports of packages not shown):`,
  );
  for (const [from, edges] of graph) {
    const targets = [...edges].map(([to, edge]) => `${relative(dirname(from), to).replaceAll("\\", "/")}${label(edge) === "value" ? "" : ` (${[...edge.kinds].join("+")})`}`);
    console.log(`  ${rel(from)} -> ${targets.length > 0 ? targets.join(", ") : "(none)"}`);
  }
  console.log("");
}

if (unresolved.length > 0) {
  console.log(`relative imports that resolve to no file (${unresolved.length}):`);
  for (const u of unresolved) console.log(`  ${u}`);
  console.log("");
}

if (cycles.length === 0) {
  console.log(`no import cycles in ${rel(root)}/ (${files.length} files, ${edgeCount} relative edges${runtimeOnly ? ", type-only edges left out" : ", type-only and dynamic edges included"}).`);
  process.exit(0);
}

console.log(
  `${cycles.length}${truncated ? "+" : ""} import cycle(s) in ${rel(root)}/ (${files.length} files, ${edgeCount} relative edges${runtimeOnly ? ", type-only edges left out" : ", type-only and dynamic edges included"}), ` +
    `in ${components.length} strongly connected group(s):`,
);
for (const component of components) console.log(`  group of ${component.length}: ${component.map(rel).join(", ")}`);
console.log("");
console.log("cycles (each edge: -[kind :line(s) of the import in the file it leaves]->):");
for (const c of cycles) console.log(`  ${describeCycle(c)}`);
if (truncated) console.log(`  ... stopped at ${maxCycles} cycles (--max-cycles)`);
process.exit(1);
