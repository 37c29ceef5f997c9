/**
 * The client-side CPU cost of a fresh hit: next-cacheback's `fetch` (and `fetchWithStatus`) against a bare
 * `@upstash/redis` `get` of the same stored entry (the same bytes over the same client), N hits one at a
 * time and N with 64 in flight. The dev servers (the Redis REST server bridged onto redis-server, and the
 * QStash server) run in a process of their own, as in `npm run bench` (bench/lib/servers.ts), so this
 * process's CPU time and its CPU profile hold the client alone.
 *
 *   npx tsx bench/profile/hit-profile.ts                       every subject, both modes
 *   node --cpu-prof --cpu-prof-dir bench/.tmp/prof --import tsx bench/profile/hit-profile.ts --only fetch
 *   node bench/profile/top.mjs bench/.tmp/prof                 top functions of the newest profile
 *
 * Options:
 *   --n N              hits per subject with --in-flight in flight, over all rounds (default 200000)
 *   --seq-n N          hits per subject one at a time, over all rounds (default: --n; one at a time runs
 *                      at about 1,500 hits/s, so 200000 takes minutes per subject: --seq-n 40000 is plenty)
 *   --in-flight K      hits in flight in the concurrent mode (default 64)
 *   --rounds R         the hits of each subject are split into R rounds; in each round every subject takes
 *                      its turn, in a rotating order, so the machine's noise falls on all alike (default 5)
 *   --only LIST        subjects, comma-separated, of: fetch, status, bare (default all three)
 *   --modes LIST       comma-separated, of: seq (one at a time), conc (--in-flight at a time) (default seq,conc)
 *   --warmup N         untimed hits per subject first (default 5000)
 *   --dist NAME=DIR    also measure the build in DIR (DIR/index.js: a patched or older build) as NAME, interleaved
 *                      with the package's own dist/ (`current`) in every round; repeatable
 *   --profile DIR      also write CPU profiles of the timed batches only (node:inspector, sampled every
 *                      100 µs, which slows every subject alike): one per subject and mode, every round's
 *                      batches laid end to end, as DIR/<subject>-<mode>.cpuprofile; read them with top.mjs
 *   --otel WHAT        register OpenTelemetry providers first (traces, metrics or both; see bench/otel/providers.ts):
 *                      the package is then measured traced, and untraced as well (`@untraced`: telemetry: false)
 *   --json FILE        write the results as JSON
 *
 * Reported per subject and mode: throughput, client CPU µs per hit (process.cpuUsage: user + system, the
 * median over rounds and the pooled figure; on Linux also the main thread's share, from /proc), and the REST server's HTTP requests, Redis commands and CPU
 * µs per hit (from the server process), which show that every subject does one round trip.
 */
import "../lib/ensure-dist.js";
import { Client } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Main from "../../src/index.js";
import { startServerProcess } from "../lib/servers.js";
import { apiLoadable, registerOtel, telemetryState, type OtelWhat } from "../otel/providers.js";

// --- options -------------------------------------------------------------------------------------

const SUBJECTS = ["fetch", "status", "bare"] as const;
type Subject = (typeof SUBJECTS)[number];
const MODES = ["seq", "conc"] as const;
type Mode = (typeof MODES)[number];

function parseArgs(argv: string[]) {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i === -1) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`--${name} needs a value`);
    return v;
  };
  const known = new Set(["n", "seq-n", "in-flight", "rounds", "only", "modes", "warmup", "dist", "profile", "otel", "json"]);
  const dists: { name: string; dir: string }[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== "--dist") continue;
    const v = argv[i + 1] ?? "";
    const eq = v.indexOf("=");
    if (eq <= 0 || v.slice(0, eq) === "current") throw new Error("--dist needs NAME=DIR (NAME other than current)");
    dists.push({ name: v.slice(0, eq), dir: v.slice(eq + 1) });
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--") || !known.has(a.slice(2))) throw new Error(`unknown argument ${a} (see the header of bench/profile/hit-profile.ts)`);
    i++;
  }
  const int = (name: string, fallback: number) => {
    const v = get(name);
    const n = v === undefined ? fallback : Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} needs a non-negative integer`);
    return n;
  };
  const n = int("n", 200_000);
  const list = <T extends string>(name: string, all: readonly T[]): T[] => {
    const v = get(name);
    if (v === undefined) return [...all];
    const picked = v.split(",").map((s) => s.trim()) as T[];
    for (const p of picked) if (!all.includes(p)) throw new Error(`--${name}: "${p}" is not one of ${all.join(", ")}`);
    return picked;
  };
  return {
    n,
    seqN: int("seq-n", n),
    inFlight: Math.max(1, int("in-flight", 64)),
    rounds: Math.max(1, int("rounds", 5)),
    only: list("only", SUBJECTS),
    modes: list("modes", MODES),
    warmup: int("warmup", 5_000),
    dists,
    profile: get("profile"),
    otel: otelOption(get("otel")),
    json: get("json"),
  };
}

function otelOption(v: string | undefined): OtelWhat | undefined {
  if (v === undefined || v === "none") return undefined;
  if (v !== "traces" && v !== "metrics" && v !== "both") throw new Error("--otel takes none, traces, metrics or both");
  return v;
}

const options = parseArgs(process.argv.slice(2));

// --- setup ---------------------------------------------------------------------------------------

/** The value the bench's hit comparison reads (bench/comparisons/hit.ts): about 500 bytes of JSON. */
const VALUE = { id: 42, title: "A post title of moderate length", tags: ["a", "b", "c"], body: "x".repeat(400) };
const JOB = "item";
const KEY = [JOB, "hit"] as const;

const servers = await startServerProcess();
/** Each subject reads through a client of its own (as in bench/comparisons/hit.ts), so auto-pipelines never mix. */
const client = () => new Redis({ url: servers.redisUrl, token: servers.redisToken, enableTelemetry: false });
const prefix = `profile:${Date.now().toString(36)}:`;
const fetcher = async (key: string): Promise<typeof VALUE> => {
  throw new Error(`the fetcher ran for ${key}: the read was not a hit`);
};
const LABEL: Record<Subject, string> = {
  fetch: "next-cacheback fetch",
  status: "next-cacheback fetchWithStatus",
  bare: "bare @upstash/redis get",
};

/** The package by its name (its own dist/, through the exports map), or another build by URL. */
const load = (url: string) => import(url) as Promise<typeof Main>;

/** A subject: who reads, how, and its label. */
interface Runner {
  id: string;
  subject: Subject;
  build: string;
  label: string;
  op: () => Promise<unknown>;
}
const runners: Runner[] = [];
let rawKey = "";
const otel = options.otel ? await registerOtel(options.otel) : undefined;
const builds = [
  { name: "current", url: "next-cacheback", config: {} },
  // With providers registered, the package is measured untraced too, in the same process.
  ...(otel ? [{ name: "untraced", url: "next-cacheback", config: { telemetry: false as const } }] : []),
  ...options.dists.map((d) => ({ name: d.name, url: pathToFileURL(resolve(d.dir, "index.js")).href, config: {} })),
];
const telemetryOf: string[] = [];
for (const build of builds) {
  const lib = await load(build.url);
  const make = () =>
    new lib.Cacheback({
      redis: client(),
      qstash: new Client({ baseUrl: servers.qstashUrl, token: servers.qstashToken }),
      // A fresh hit never publishes; nothing listens here.
      refreshUrl: "http://127.0.0.1:9/api/cacheback",
      prefix,
      defaults: { lifetime: 3600, ttl: 86_400 },
      ...build.config,
    });
  for (const subject of options.only.filter((x) => x !== "bare")) {
    const cb = make();
    telemetryOf.push(`${subject}@${build.name}: ${await telemetryState(cb, otel ? 5_000 : 300)}`);
    if (!rawKey) {
      await cb.set(KEY, VALUE);
      rawKey = cb.key(KEY);
    }
    if (cb.key(KEY) !== rawKey) throw new Error(`${build.name} stores the entry under ${cb.key(KEY)}, not ${rawKey}`);
    const first = await cb.fetchWithStatus(KEY, fetcher);
    if (first.status !== "hit" || JSON.stringify(first.value) !== JSON.stringify(VALUE)) {
      throw new Error(`${build.name}: the seeded entry did not read as a hit: ${first.status} ${JSON.stringify(first.value).slice(0, 100)}`);
    }
    const op = subject === "fetch" ? () => cb.fetch(KEY, fetcher) : () => cb.fetchWithStatus(KEY, fetcher);
    const label = `${LABEL[subject]}${builds.length > 1 ? ` @${build.name}` : ""}`;
    runners.push({ id: `${subject}@${build.name}`, subject, build: build.name, label, op });
  }
}
if (!rawKey) {
  // Only the bare get: seed the entry through the package all the same, so it reads the same bytes.
  const lib = await load("next-cacheback");
  const cb = new lib.Cacheback({ redis: client(), qstash: new Client({ baseUrl: servers.qstashUrl, token: servers.qstashToken }), prefix, defaults: { lifetime: 3600, ttl: 86_400 } });
  await cb.set(KEY, VALUE);
  rawKey = cb.key(KEY);
}
const bareClient = client();
const bareFirst = await bareClient.get<Record<string, unknown>>(rawKey);
if (!bareFirst || JSON.stringify(bareFirst.value) !== JSON.stringify(VALUE)) throw new Error("the bare get did not find the entry");
const storedBytes = Buffer.byteLength(JSON.stringify(bareFirst));
if (options.only.includes("bare")) runners.unshift({ id: "bare", subject: "bare", build: "-", label: LABEL.bare, op: () => bareClient.get(rawKey) });

/** Runs `op` `total` times with `inFlight` in flight; no per-op timing, so the loop itself stays cheap. */
/**
 * CPU time of this process's main thread so far, µs (Linux: /proc, in clock ticks of 10 ms), or NaN. The
 * rest of process.cpuUsage() is spent by V8's helper threads (parallel scavenges, concurrent marking) and
 * libuv's pool.
 */
function mainThreadCpuUs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return Number.NaN;
  }
}

async function runBatch(op: () => Promise<unknown>, total: number, inFlight: number): Promise<{ wallMs: number; cpuUs: number; mainThreadUs: number }> {
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      await op();
    }
  };
  const main = mainThreadCpuUs();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, worker));
  const wallMs = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuUs: used.user + used.system, mainThreadUs: mainThreadCpuUs() - main };
}

if (options.modes.includes("conc")) for (const r of runners) await runBatch(r.op, options.warmup, options.inFlight);
if (options.modes.includes("seq")) for (const r of runners) await runBatch(r.op, Math.min(options.warmup, 2_000), 1);

// --- timed rounds --------------------------------------------------------------------------------

interface Sample {
  ops: number;
  wallMs: number;
  cpuUs: number;
  mainThreadUs: number;
  requests: number;
  commands: number;
  serverCpuUs: number;
}

const samples = new Map<string, Sample[]>();
const profiles = new Map<string, CpuProfile[]>();
let session: Session | undefined;
if (options.profile) {
  session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
}

const loadAverage = loadavg().map((x) => x.toFixed(2));
console.log(
  `hit profile: ${options.only.join(", ")}; ${options.modes.join(", ")}; ${options.rounds} rounds; ` +
    `${options.seqN} one at a time and ${options.n} with ${options.inFlight} in flight per subject; stored entry ${storedBytes} bytes; ` +
    `${options.dists.length > 0 ? `builds: current, ${options.dists.map((d) => `${d.name} (${d.dir})`).join(", ")}; ` : ""}load average ${loadAverage.join(" ")}`,
);
console.log(`OpenTelemetry: @opentelemetry/api ${(await apiLoadable()) ? "loadable" : "not loadable"}; providers registered: ${options.otel ?? "none"}; ${telemetryOf.join("; ")}`);
for (let round = 0; round < options.rounds; round++) {
  for (const mode of options.modes) {
    const total = Math.floor((mode === "seq" ? options.seqN : options.n) / options.rounds);
    if (total === 0) continue;
    const order = runners.map((_, i) => runners[(i + round) % runners.length]!);
    for (const r of order) {
      await servers.resetStats();
      const before = await servers.stats();
      if (session) await session.post("Profiler.start");
      const batch = await runBatch(r.op, total, mode === "seq" ? 1 : options.inFlight);
      if (session) {
        const { profile } = await session.post("Profiler.stop");
        profiles.set(`${r.id}-${mode}`, [...(profiles.get(`${r.id}-${mode}`) ?? []), profile as CpuProfile]);
      }
      const after = await servers.stats();
      const key = `${r.id}/${mode}`;
      samples.set(key, [
        ...(samples.get(key) ?? []),
        {
          ops: total,
          ...batch,
          requests: after.stats.requests,
          commands: after.stats.commands,
          serverCpuUs: after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system,
        },
      ]);
    }
  }
  process.stdout.write(`  round ${round + 1}/${options.rounds} done\n`);
}

// --- results -------------------------------------------------------------------------------------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
interface Row {
  subject: Subject;
  build: string;
  label: string;
  mode: Mode;
  inFlight: number;
  ops: number;
  opsPerSec: number;
  /** Client CPU µs per hit: median over rounds, min and max over rounds, and pooled over every round. */
  cpuUsPerOp: { median: number; min: number; max: number; pooled: number };
  /** Client CPU µs per hit in each round, in round order (for differences paired by round). */
  cpuUsPerOpByRound: number[];
  /** Of the pooled client CPU, the main thread's share, µs per hit (Linux only; 10 ms resolution per batch). */
  mainThreadUsPerOp: number;
  requestsPerOp: number;
  commandsPerOp: number;
  serverCpuUsPerOp: number;
}
const rows: Row[] = [];
for (const mode of options.modes) {
  for (const runner of runners) {
    const xs = samples.get(`${runner.id}/${mode}`);
    if (!xs) continue;
    const opsTotal = xs.reduce((n, x) => n + x.ops, 0);
    const perRound = xs.map((x) => x.cpuUs / x.ops);
    rows.push({
      subject: runner.subject,
      build: runner.build,
      label: runner.label,
      mode,
      inFlight: mode === "seq" ? 1 : options.inFlight,
      ops: opsTotal,
      opsPerSec: (opsTotal / xs.reduce((n, x) => n + x.wallMs, 0)) * 1000,
      cpuUsPerOp: {
        median: median(perRound),
        min: Math.min(...perRound),
        max: Math.max(...perRound),
        pooled: xs.reduce((n, x) => n + x.cpuUs, 0) / opsTotal,
      },
      cpuUsPerOpByRound: perRound,
      mainThreadUsPerOp: xs.reduce((n, x) => n + x.mainThreadUs, 0) / opsTotal,
      requestsPerOp: xs.reduce((n, x) => n + x.requests, 0) / opsTotal,
      commandsPerOp: xs.reduce((n, x) => n + x.commands, 0) / opsTotal,
      serverCpuUsPerOp: xs.reduce((n, x) => n + x.serverCpuUs, 0) / opsTotal,
    });
  }
}

const f = (x: number, d = 1) => x.toFixed(d);
const signed = (x: number, d = 2) => `${x >= 0 ? "+" : ""}${x.toFixed(d)}`;
const labelWidth = Math.max(32, ...runners.map((r) => r.label.length));
console.log("");
console.log(
  [
    "subject".padEnd(labelWidth),
    "in flight".padStart(9),
    "hits".padStart(8),
    "hits/s".padStart(9),
    "client CPU µs/hit median (min–max) pooled".padStart(42),
    "main thread µs/hit".padStart(18),
    "HTTP req/hit".padStart(13),
    "cmds/hit".padStart(9),
    "server CPU µs/hit".padStart(18),
  ].join("  "),
);
for (const r of rows) {
  console.log(
    [
      r.label.padEnd(labelWidth),
      String(r.inFlight).padStart(9),
      String(r.ops).padStart(8),
      f(r.opsPerSec, 0).padStart(9),
      `${f(r.cpuUsPerOp.median)} (${f(r.cpuUsPerOp.min)}–${f(r.cpuUsPerOp.max)}) ${f(r.cpuUsPerOp.pooled)}`.padStart(42),
      f(r.mainThreadUsPerOp).padStart(18),
      f(r.requestsPerOp, 3).padStart(13),
      f(r.commandsPerOp, 3).padStart(9),
      f(r.serverCpuUsPerOp).padStart(18),
    ].join("  "),
  );
}
/**
 * `a` minus `b`, paired by round (both ran in the same round, one after the other, so a burst of load
 * from elsewhere tends to hit both): the median of the per-round differences and their middle half.
 */
function paired(a: Row, b: Row): { median: number; q1: number; q3: number } {
  const d = a.cpuUsPerOpByRound.map((x, i) => x - b.cpuUsPerOpByRound[i]!).sort((x, y) => x - y);
  const at = (q: number) => d[Math.min(d.length - 1, Math.max(0, Math.round(q * (d.length - 1))))]!;
  return { median: median(d), q1: at(0.25), q3: at(0.75) };
}
const describe = (a: Row, b: Row) => {
  const p = paired(a, b);
  return (
    `${signed(p.median)} µs client CPU per hit (median of ${a.cpuUsPerOpByRound.length} per-round differences; middle half ${signed(p.q1)} to ${signed(p.q3)}; ` +
    `difference of pooled figures ${signed(a.cpuUsPerOp.pooled - b.cpuUsPerOp.pooled)}), throughput ×${(a.opsPerSec / b.opsPerSec).toFixed(3)}`
  );
};
console.log("");
for (const mode of options.modes) {
  const bare = rows.find((r) => r.subject === "bare" && r.mode === mode);
  const where = mode === "seq" ? "one at a time" : `${options.inFlight} in flight`;
  if (bare) for (const r of rows.filter((x) => x.mode === mode && x.subject !== "bare")) console.log(`${r.label} against the bare get, ${where}: ${describe(r, bare)}`);
  for (const r of rows.filter((x) => x.mode === mode && x.build !== "current" && x.subject !== "bare")) {
    const current = rows.find((x) => x.mode === mode && x.build === "current" && x.subject === r.subject);
    if (current) console.log(`${r.label} against @current, ${where}: ${describe(r, current)}`);
  }
}

if (options.profile && session) {
  // One profile per subject and mode: its batches' samples laid end to end.
  mkdirSync(options.profile, { recursive: true });
  const written: string[] = [];
  for (const [id, list] of profiles) {
    const file = join(options.profile, `${id.replace(/[^\w.-]+/g, "_")}.cpuprofile`);
    writeFileSync(file, JSON.stringify(mergeProfiles(list)));
    written.push(file);
  }
  console.log(`\nCPU profiles of the timed batches:\n  ${written.join("\n  ")}`);
  session.disconnect();
}
if (options.json) {
  writeFileSync(options.json, `${JSON.stringify({ options, storedBytes, loadavg: loadAverage, telemetry: telemetryOf, rows }, null, 2)}\n`);
  console.log(`results: ${options.json}`);
}

await servers.close();
// The @upstash/redis and QStash clients hold no handles that outlive their requests, but be explicit.
process.exit(0);

// --- profile merging -----------------------------------------------------------------------------

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Lays several profiles end to end as one (node ids renumbered; the gaps between them dropped). */
function mergeProfiles(list: CpuProfile[]): CpuProfile {
  const nodes: CpuProfileNode[] = [];
  const samplesOut: number[] = [];
  const deltas: number[] = [];
  const roots: number[] = [];
  let offset = 0;
  let duration = 0;
  for (const p of list) {
    roots.push(p.nodes[0]!.id + offset);
    let maxId = 0;
    for (const n of p.nodes) {
      maxId = Math.max(maxId, n.id);
      nodes.push({ ...n, id: n.id + offset, ...(n.children ? { children: n.children.map((c) => c + offset) } : {}) });
    }
    samplesOut.push(...p.samples.map((s) => s + offset));
    deltas.push(...p.timeDeltas.map((d, i) => (i === 0 ? 0 : d)));
    duration += p.endTime - p.startTime;
    offset += maxId;
  }
  // Several roots: give them one root so the result is a tree.
  const rootId = offset + 1;
  nodes.unshift({ id: rootId, callFrame: { functionName: "(root)", scriptId: "0", url: "", lineNumber: -1, columnNumber: -1 }, children: roots });
  return { nodes, startTime: 0, endTime: duration, samples: samplesOut, timeDeltas: deltas };
}
