#!/usr/bin/env node
// Renders the spans that @opentelemetry/sdk-trace-base's ConsoleSpanExporter printed (a server's log, as
// example-next-app/instrumentation.ts prints them with CACHEBACK_OTEL_CONSOLE=1) as trees, one per trace
// that holds a next-cacheback span: each span under its parent, with its duration, its attributes (those
// of next-cacheback's spans) and its links.
//
//   node bench/otel/span-tree.mjs LOG [--all-attributes]
import { readFileSync } from "node:fs";
import { runInNewContext } from "node:vm";

const [file, ...flags] = process.argv.slice(2);
if (!file) {
  console.error("usage: node bench/otel/span-tree.mjs LOG [--all-attributes]");
  process.exit(2);
}
const allAttributes = flags.includes("--all-attributes");
const text = readFileSync(file, "utf8").replaceAll("\0", "");

// Top-level `{ ... }` blocks (util.inspect output starts them at column 0), evaluated as object literals.
const spans = [];
for (const block of text.split(/^(?=\{$)/m)) {
  const end = block.search(/^\}$/m);
  if (!block.startsWith("{") || end < 0) continue;
  let value;
  try {
    value = runInNewContext(`(${block.slice(0, end + 1)})`);
  } catch {
    continue;
  }
  if (typeof value?.traceId === "string" && typeof value?.name === "string") spans.push(value);
}

const byId = new Map(spans.map((s) => [s.id, s]));
const children = new Map();
const roots = [];
for (const s of spans) {
  const parent = s.parentSpanContext?.spanId;
  if (parent && byId.has(parent)) children.set(parent, [...(children.get(parent) ?? []), s]);
  else roots.push(s);
}
const ms = (s) => `${(s.duration / 1000).toFixed(1)} ms`;
const own = (s) => s.instrumentationScope?.name === "next-cacheback";
const describe = (s) => {
  const parts = [`${s.name}  (${ms(s)}, span ${s.id}${s.parentSpanContext?.isRemote ? `, parent ${s.parentSpanContext.spanId} from the message` : ""})`];
  if (own(s) || allAttributes) {
    const attrs = Object.entries(s.attributes ?? {}).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
    if (attrs.length > 0) parts.push(`    ${attrs.join(" ")}`);
  }
  for (const link of s.links ?? []) parts.push(`    link -> span ${link.context.spanId} (${byId.get(link.context.spanId)?.name ?? "not in this log"})`);
  return parts;
};
function print(span, prefix, last, top) {
  const lines = describe(span);
  console.log(`${prefix}${top ? "" : last ? "└─ " : "├─ "}${lines[0]}`);
  const inner = prefix + (top ? "" : last ? "   " : "│  ");
  const kids = (children.get(span.id) ?? []).sort((a, b) => a.timestamp - b.timestamp);
  for (const extra of lines.slice(1)) console.log(`${inner}${kids.length > 0 ? "│" : " "}${extra}`);
  kids.forEach((k, i) => print(k, inner, i === kids.length - 1, false));
}

const traces = new Map();
for (const s of spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s]);
for (const [traceId, members] of traces) {
  if (!members.some(own)) continue;
  console.log(`trace ${traceId}`);
  for (const root of roots.filter((r) => r.traceId === traceId).sort((a, b) => a.timestamp - b.timestamp)) print(root, "  ", true, true);
  console.log("");
}
