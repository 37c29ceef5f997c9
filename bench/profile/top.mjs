#!/usr/bin/env node
// Reads a V8 CPU profile (.cpuprofile, from `node --cpu-prof` or hit-profile.ts --profile) and prints
//   - where the time went by origin (next-cacheback, each package, node internals, GC, idle...);
//   - the top functions by self time (all frames);
//   - the top functions by total (inclusive) time among next-cacheback's own frames (dist/ or src/);
// each with file:line (1-based; for dist/*.js also the src/*.ts line, through the .js.map next to it).
//
//   node bench/profile/top.mjs FILE.cpuprofile
//   node bench/profile/top.mjs DIR          the newest main-thread profile in DIR (CPU.*.<pid>.0.*.cpuprofile)
//   options: --top N (default 25), --json, --per N (also print µs per operation, for a profile of N operations)
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

let target;
let top = 25;
let json = false;
let per;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--top") top = Number(argv[++i]);
  else if (a === "--json") json = true;
  else if (a === "--per") per = Number(argv[++i]);
  else if (!a.startsWith("--") && target === undefined) target = a;
  else {
    console.error(`unknown argument ${a}\nusage: node bench/profile/top.mjs FILE.cpuprofile|DIR [--top 25] [--json]`);
    process.exit(2);
  }
}
if (!target || !Number.isInteger(top) || top < 1 || (per !== undefined && !(per > 0))) {
  console.error("usage: node bench/profile/top.mjs FILE.cpuprofile|DIR [--top 25] [--json] [--per N]");
  process.exit(2);
}

function pickFile(path) {
  if (!statSync(path).isDirectory()) return path;
  const all = readdirSync(path)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => ({ f: join(path, f), t: statSync(join(path, f)).mtimeMs, main: /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f) }));
  if (all.length === 0) throw new Error(`no .cpuprofile in ${path}`);
  // `node --cpu-prof` writes one profile per thread; thread 0 is the main thread (tsx's loader hooks run in thread 1).
  const pool = all.some((x) => x.main) ? all.filter((x) => x.main) : all;
  return pool.sort((a, b) => b.t - a.t)[0].f;
}

const file = pickFile(target);
const profile = JSON.parse(readFileSync(file, "utf8"));

// --- per-node self time, from the samples (each sample lasts until the next one) ------------------

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const { samples, timeDeltas } = profile;
for (let i = 0; i < samples.length; i++) {
  const dt = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0;
  self.set(samples[i], (self.get(samples[i]) ?? 0) + Math.max(0, dt));
}
const totalUs = [...self.values()].reduce((a, b) => a + b, 0);

// --- frames --------------------------------------------------------------------------------------

function pathOf(url) {
  if (!url) return "";
  if (url.startsWith("file://")) {
    try {
      return relative(repo, fileURLToPath(url)).replaceAll("\\", "/");
    } catch {
      return url;
    }
  }
  return url;
}

const isOwn = (path) => !path.includes("node_modules/") && !path.startsWith("..") && !path.startsWith("node:") && /(^|\/)(dist|src)\/.*\.(m?js|ts)$/.test(path);

function origin(frame) {
  const path = pathOf(frame.url);
  const name = frame.functionName;
  if (!path) return /^\(.*\)$/.test(name) ? name : "V8/native builtins";
  if (path.startsWith("node:")) return "node internals";
  if (path.startsWith("wasm:")) return "wasm (undici's HTTP parser)";
  const nm = path.split("node_modules/");
  if (nm.length > 1) {
    const last = nm.at(-1);
    return last.startsWith("@") ? last.split("/").slice(0, 2).join("/") : last.split("/")[0];
  }
  if (isOwn(path)) return "next-cacheback";
  return path.startsWith("..") || path.startsWith("/") ? "other" : `repo: ${path.split("/").slice(0, 2).join("/")}`;
}

// Source maps of dist/*.js, so a frame can name its src/*.ts line too.
const B64 = new Map([..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].map((c, i) => [c, i]));
const maps = new Map();
function sourceMapOf(path) {
  if (maps.has(path)) return maps.get(path);
  let decoded = null;
  const mapFile = resolve(repo, `${path}.map`);
  if (existsSync(mapFile)) {
    const map = JSON.parse(readFileSync(mapFile, "utf8"));
    // lines[genLine] = sorted [genCol, srcIndex, srcLine, srcCol]
    const lines = [];
    let src = 0;
    let srcLine = 0;
    let srcCol = 0;
    for (const lineText of map.mappings.split(";")) {
      const segs = [];
      let genCol = 0;
      for (const seg of lineText.split(",")) {
        if (!seg) continue;
        const values = [];
        let value = 0;
        let shift = 0;
        for (const ch of seg) {
          const digit = B64.get(ch);
          value += (digit & 31) << shift;
          if (digit & 32) shift += 5;
          else {
            values.push(value & 1 ? -(value >>> 1) : value >>> 1);
            value = 0;
            shift = 0;
          }
        }
        genCol += values[0];
        if (values.length >= 4) {
          src += values[1];
          srcLine += values[2];
          srcCol += values[3];
          segs.push([genCol, src, srcLine, srcCol]);
        }
      }
      lines.push(segs);
    }
    const base = dirname(mapFile);
    decoded = { lines, sources: map.sources.map((s) => relative(repo, resolve(base, map.sourceRoot ?? "", s)).replaceAll("\\", "/")) };
  }
  maps.set(path, decoded);
  return decoded;
}

function original(path, line0, col0) {
  if (!path.endsWith(".js")) return undefined;
  const map = sourceMapOf(path);
  const segs = map?.lines[line0];
  if (!segs || segs.length === 0) return undefined;
  let best = segs[0];
  for (const s of segs) if (s[0] <= col0) best = s;
  return `${map.sources[best[1]]}:${best[2] + 1}`;
}

const functions = new Map();
function functionOf(node) {
  const f = node.callFrame;
  const key = `${f.functionName}|${f.url}|${f.lineNumber}|${f.columnNumber}`;
  let fn = functions.get(key);
  if (!fn) {
    const path = pathOf(f.url);
    const loc = path ? `${path}:${f.lineNumber + 1}` : "";
    const src = path && isOwn(path) ? original(path, f.lineNumber, f.columnNumber) : undefined;
    fn = { key, name: f.functionName || "(anonymous)", location: loc, source: src && src !== loc ? src : undefined, origin: origin(f), own: isOwn(path), selfUs: 0, totalUs: 0 };
    functions.set(key, fn);
  }
  return fn;
}

// Self time per function; total time per function (a recursive function counted once per stack).
const root = profile.nodes[0];
const subtree = new Map();
{
  // Post-order, iteratively.
  const order = [];
  const stack = [root.id];
  while (stack.length > 0) {
    const id = stack.pop();
    order.push(id);
    for (const c of byId.get(id).children ?? []) stack.push(c);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const n = byId.get(order[i]);
    let t = self.get(n.id) ?? 0;
    for (const c of n.children ?? []) t += subtree.get(c) ?? 0;
    subtree.set(n.id, t);
    functionOf(n).selfUs += self.get(n.id) ?? 0;
  }
  // Pre-order with the functions on the stack, so each sample counts once per function.
  const onStack = new Map();
  const walk = [[root.id, false]];
  while (walk.length > 0) {
    const [id, leaving] = walk.pop();
    const fn = functionOf(byId.get(id));
    if (leaving) {
      const k = onStack.get(fn.key) - 1;
      if (k === 0) onStack.delete(fn.key);
      else onStack.set(fn.key, k);
      continue;
    }
    if (!onStack.has(fn.key)) fn.totalUs += subtree.get(id);
    onStack.set(fn.key, (onStack.get(fn.key) ?? 0) + 1);
    walk.push([id, true]);
    for (const c of byId.get(id).children ?? []) walk.push([c, false]);
  }
}

const list = [...functions.values()];
const idleUs = list.filter((f) => f.name === "(idle)").reduce((n, f) => n + f.selfUs, 0);
const busyUs = totalUs - idleUs;
const byOrigin = new Map();
for (const f of list) byOrigin.set(f.origin, (byOrigin.get(f.origin) ?? 0) + f.selfUs);

const topSelf = list.filter((f) => f.name !== "(idle)" && f.name !== "(root)").sort((a, b) => b.selfUs - a.selfUs).slice(0, top);
const topOwnTotal = list.filter((f) => f.own).sort((a, b) => b.totalUs - a.totalUs).slice(0, top);
const topOwnSelf = list.filter((f) => f.own).sort((a, b) => b.selfUs - a.selfUs);
const ownSelfUs = topOwnSelf.reduce((n, f) => n + f.selfUs, 0);

if (json) {
  const strip = ({ key: _key, ...rest }) => rest;
  console.log(
    JSON.stringify(
      {
        file,
        totalUs,
        idleUs,
        busyUs,
        samples: samples.length,
        byOrigin: Object.fromEntries([...byOrigin].sort((a, b) => b[1] - a[1])),
        topSelf: topSelf.map(strip),
        topOwnTotal: topOwnTotal.map(strip),
      },
      null,
      2,
    ),
  );
  process.exit(0);
}

const ms = (us) => `${(us / 1000).toFixed(1)} ms${per ? ` = ${(us / per).toFixed(2)} µs/op` : ""}`;
const pct = (us) => `${((us / busyUs) * 100).toFixed(1)}%`;
const where = (f) => `${f.location || "(native)"}${f.source ? ` (${f.source})` : ""}`;
console.log(`${relative(process.cwd(), file)}: ${samples.length} samples${per ? `, ${per} operations` : ""}, ${ms(totalUs)} sampled, of which ${ms(idleUs)} idle; percentages are of the ${ms(busyUs)} not idle.`);
console.log("");
console.log("self time by origin:");
for (const [o, us] of [...byOrigin].sort((a, b) => b[1] - a[1])) {
  if (us > 0 && o !== "(idle)") console.log(`  ${pct(us).padStart(6)}  ${ms(us).padStart(per ? 26 : 11)}  ${o}`);
}
console.log("");
console.log(`top ${top} functions by self time (all frames):`);
for (const f of topSelf) console.log(`  ${pct(f.selfUs).padStart(6)}  ${ms(f.selfUs).padStart(per ? 26 : 11)}  ${f.name}  ${where(f)}  [${f.origin}]`);
console.log("");
console.log(`top ${top} of next-cacheback's own functions by total time (self + everything they call), self in brackets; own self time all told ${pct(ownSelfUs)} (${ms(ownSelfUs)}):`);
for (const f of topOwnTotal) console.log(`  ${pct(f.totalUs).padStart(6)}  ${ms(f.totalUs).padStart(per ? 26 : 11)}  [self ${pct(f.selfUs)}]  ${f.name}  ${where(f)}`);
