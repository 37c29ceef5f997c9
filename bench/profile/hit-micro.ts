/**
 * next-cacheback's own CPU per fresh hit, with the network taken out: the read path over a stub store
 * whose `get` resolves at once with the stored entry (already parsed, as @upstash/redis hands it over),
 * against a bare `get` of the same stub. The difference is what the library adds to each hit; the HTTP
 * client's own cost (hundreds of µs per request, a few µs per hit when pipelined) is left out, which makes
 * differences of a fraction of a µs measurable.
 *
 * Several builds can be compared in one process, interleaved round by round (so the machine's noise
 * falls on all alike): `--dist name=DIR` loads DIR/index.js as `name`; the package itself (dist/, through
 * its exports) is `current` and is always measured.
 *
 *   npx tsx bench/profile/hit-micro.ts
 *   npx tsx bench/profile/hit-micro.ts --dist no-timer=bench/.tmp/variants/no-timer/dist --dist all=...
 *
 * Options:
 *   --n N           hits per subject per round (default 300000)
 *   --rounds R      rounds (default 7); the figures are medians over rounds
 *   --in-flight L   comma-separated in-flight counts (default 1,64)
 *   --api A         fetch, status (fetchWithStatus) or both (default both)
 *   --parse         the stub parses the stored JSON on every get, as the real client does (default: no,
 *                   it hands over one parsed object; the parse costs the bare get and a hit alike)
 *   --otel WHAT     register OpenTelemetry providers first, as an app's instrumentation would: traces (a
 *                   BasicTracerProvider, a BatchSpanProcessor and an exporter that drops what it gets, with
 *                   the AsyncLocalStorage context manager), metrics (a MeterProvider whose reader is never
 *                   collected), or both (default: none). The package is then measured traced, and untraced
 *                   as well (`current telemetry:false`); builds without telemetry are untraced either way
 *   --json FILE     write the results as JSON
 *
 * Each build says whether its telemetry is on (it looks for providers asynchronously when an instance is
 * made; the run waits for that). Run under `node --import ./bench/otel/hide-api.mjs --import tsx` to
 * measure as if `@opentelemetry/api` were not installed.
 */
import "../lib/ensure-dist.js";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Main from "../../src/index.js";
import type { CacheStore } from "../../src/stores/types.js";
import type { RefreshQueue } from "../../src/queues/types.js";
import { apiLoadable, registerOtel, telemetryState, type OtelWhat } from "../otel/providers.js";

function parseArgs(argv: string[]) {
  const out = {
    n: 300_000,
    rounds: 7,
    inFlight: [1, 64],
    api: ["fetch", "status"] as ("fetch" | "status")[],
    parse: false,
    otel: "none" as OtelWhat | "none",
    json: undefined as string | undefined,
    dists: [] as { name: string; dir: string }[],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--n") out.n = Number(next());
    else if (a === "--rounds") out.rounds = Number(next());
    else if (a === "--in-flight") out.inFlight = next().split(",").map(Number);
    else if (a === "--api") {
      const v = next();
      out.api = v === "both" ? ["fetch", "status"] : [v as "fetch" | "status"];
    } else if (a === "--parse") out.parse = true;
    else if (a === "--otel") {
      const v = next();
      if (v !== "none" && v !== "traces" && v !== "metrics" && v !== "both") throw new Error("--otel takes none, traces, metrics or both");
      out.otel = v;
    }
    else if (a === "--json") out.json = next();
    else if (a === "--dist") {
      const v = next();
      const eq = v.indexOf("=");
      if (eq <= 0) throw new Error("--dist needs name=DIR");
      out.dists.push({ name: v.slice(0, eq), dir: v.slice(eq + 1) });
    } else throw new Error(`unknown argument ${a} (see the header of bench/profile/hit-micro.ts)`);
  }
  if (!Number.isInteger(out.n) || out.n < 1 || !Number.isInteger(out.rounds) || out.rounds < 1) throw new Error("--n and --rounds need positive integers");
  if (out.inFlight.some((k) => !Number.isInteger(k) || k < 1)) throw new Error("--in-flight needs positive integers");
  return out;
}

const options = parseArgs(process.argv.slice(2));

const VALUE = { id: 42, title: "A post title of moderate length", tags: ["a", "b", "c"], body: "x".repeat(400) };
const KEY = ["item", "hit"] as const;

/**
 * A store holding one entry, whose reads resolve at once with it (parsed, as @upstash/redis hands it
 * over). A read does not look its key up (a Map lookup would hash the freshly built key string of every
 * hit, a cost the real client does not have in that form); the key is checked during setup instead.
 */
function stubStore(parseEachGet: boolean, decode: (raw: unknown) => Awaited<ReturnType<CacheStore["get"]>>): CacheStore & { checkKey: string | undefined; rawGet: (key: string) => Promise<unknown> } {
  const raw = new Map<string, string>();
  const parsed = new Map<string, unknown>();
  let only: unknown = null;
  let onlyRaw = "";
  const store = {
    name: "stub",
    checkKey: undefined as string | undefined,
    /** What the Redis client hands over (the bare get). */
    rawGet: (key: string): Promise<unknown> => {
      if (store.checkKey !== undefined && key !== store.checkKey) throw new Error(`the stub was asked for ${key}, not ${store.checkKey}`);
      return Promise.resolve(parseEachGet ? JSON.parse(onlyRaw) : only);
    },
    /** What a store hands the library: the client's value, decoded (as UpstashStore does). */
    get: async (key: string) => decode(await store.rawGet(key)),
    getWithStamps: async (key: string) => ({ entry: decode(await store.rawGet(key)), stamps: [] }),
    getStamps: async () => [],
    nextVersion: async () => ({ version: Date.now() * 1000, entry: null, stamps: [] }),
    stampTags: async () => Date.now() * 1000,
    startRefresh: async () => ({ entry: null, stamps: [], done: false, version: undefined }),
    finishRefresh: async () => true,
    set: async (key: string, entry: string) => {
      raw.set(key, entry);
      parsed.set(key, JSON.parse(entry));
      only = parsed.get(key);
      onlyRaw = entry;
    },
    setIfNotNewer: async (key: string, entry: string) => {
      await store.set(key, entry);
      return true;
    },
    markStale: async () => false,
    delete: async (...keys: string[]) => {
      for (const k of keys) {
        raw.delete(k);
        parsed.delete(k);
      }
    },
    acquireLock: async () => true,
    forceLock: async () => undefined,
    releaseLock: async () => true,
  };
  return store;
}
const stubQueue: RefreshQueue = { name: "stub", publish: async () => ({ messageId: "stub" }) };

const fetcher = async (): Promise<typeof VALUE> => {
  throw new Error("the fetcher ran: the read was not a hit");
};

interface Build {
  name: string;
  ops: { fetch: () => Promise<unknown>; status: () => Promise<unknown> };
}

const otel = options.otel === "none" ? undefined : await registerOtel(options.otel);

const builds: Build[] = [];
const sources = [{ name: "current", url: "next-cacheback" }, ...options.dists.map((d) => ({ name: d.name, url: pathToFileURL(resolve(d.dir, "index.js")).href }))];
// With providers registered, the package is measured untraced too, in the same process.
const instances = sources.flatMap((source) => [
  { ...source, config: {} },
  ...(otel && source.name === "current" ? [{ ...source, name: "current telemetry:false", config: { telemetry: false as const } }] : []),
]);
let bareGet: (() => Promise<unknown>) | undefined;
const telemetryOf: string[] = [];
for (const { name, url, config } of instances) {
  const lib = (await import(url)) as typeof Main;
  const store = stubStore(options.parse, lib.toStoredEntry);
  const cb = new lib.Cacheback({ store, queue: stubQueue, refreshUrl: "http://127.0.0.1:9/api/cacheback", prefix: "micro:", defaults: { lifetime: 3600, ttl: 86_400 }, ...config });
  telemetryOf.push(`${name}: ${await telemetryState(cb, options.otel === "none" ? 300 : 5_000)}`);
  await cb.set(KEY, VALUE);
  store.checkKey = cb.key(KEY);
  const check = await cb.fetchWithStatus(KEY, fetcher);
  if (check.status !== "hit" || JSON.stringify(check.value) !== JSON.stringify(VALUE)) throw new Error(`${name}: the seeded entry did not read as a hit (${check.status})`);
  await cb.fetch(KEY, fetcher);
  store.checkKey = undefined;
  if (!bareGet) {
    const rawKey = cb.key(KEY);
    bareGet = () => store.rawGet(rawKey);
  }
  builds.push({ name, ops: { fetch: () => cb.fetch(KEY, fetcher), status: () => cb.fetchWithStatus(KEY, fetcher) } });
}

async function runBatch(op: () => Promise<unknown>, total: number, inFlight: number): Promise<{ wallNs: number; cpuNs: number }> {
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      await op();
    }
  };
  const cpu = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, worker));
  const wallNs = Number(process.hrtime.bigint() - t0);
  const used = process.cpuUsage(cpu);
  return { wallNs, cpuNs: (used.user + used.system) * 1000 };
}

interface Subject {
  id: string;
  build: string;
  api: "bare" | "fetch" | "status";
  op: () => Promise<unknown>;
}
const subjects: Subject[] = [{ id: "bare get", build: "-", api: "bare", op: bareGet! }];
for (const b of builds) for (const api of options.api) subjects.push({ id: `${b.name} ${api === "status" ? "fetchWithStatus" : "fetch"}`, build: b.name, api, op: b.ops[api] });

console.log(`OpenTelemetry: @opentelemetry/api ${(await apiLoadable()) ? "loadable" : "not loadable"}; providers registered: ${options.otel}; ${telemetryOf.join("; ")}`);

// Warm-up: every subject, every mode, until the JIT has settled.
for (const k of options.inFlight) for (const s of subjects) await runBatch(s.op, Math.min(options.n, 100_000), k);

console.log(
  `hit micro-benchmark (stub store${options.parse ? ", parsing on every get" : ""}): ${subjects.length} subjects, in flight ${options.inFlight.join(" and ")}, ` +
    `${options.rounds} rounds of ${options.n} hits each; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
);
const results = new Map<string, { cpuNs: number[]; wallNs: number[] }>();
for (let round = 0; round < options.rounds; round++) {
  for (const k of options.inFlight) {
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]!);
    for (const s of order) {
      const { wallNs, cpuNs } = await runBatch(s.op, options.n, k);
      const key = `${s.id}|${k}`;
      const r = results.get(key) ?? { cpuNs: [], wallNs: [] };
      r.cpuNs.push(cpuNs / options.n);
      r.wallNs.push(wallNs / options.n);
      results.set(key, r);
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const rows = [];
for (const k of options.inFlight) {
  const bare = results.get(`bare get|${k}`)!;
  for (const s of subjects) {
    const r = results.get(`${s.id}|${k}`)!;
    const current = s.api === "bare" ? undefined : results.get(`current ${s.api === "status" ? "fetchWithStatus" : "fetch"}|${k}`);
    rows.push({
      subject: s.id,
      build: s.build,
      api: s.api,
      inFlight: k,
      cpuNsPerHit: { median: median(r.cpuNs), min: Math.min(...r.cpuNs), max: Math.max(...r.cpuNs) },
      wallNsPerHit: median(r.wallNs),
      // Differences of medians, and of minimums (noise from other processes only ever adds time).
      overBareNs: { median: median(r.cpuNs) - median(bare.cpuNs), min: Math.min(...r.cpuNs) - Math.min(...bare.cpuNs) },
      vsCurrentNs: current && s.build !== "current" ? { median: median(r.cpuNs) - median(current.cpuNs), min: Math.min(...r.cpuNs) - Math.min(...current.cpuNs) } : undefined,
    });
  }
}

const w = Math.max(...subjects.map((s) => s.id.length), 10);
const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(0)}`;
console.log("");
console.log(`${"subject".padEnd(w)}  in flight  CPU ns/hit median (min–max)  wall ns/hit  over bare get (median / min)  vs current (median / min)`);
for (const r of rows) {
  console.log(
    [
      r.subject.padEnd(w),
      String(r.inFlight).padStart(9),
      `${r.cpuNsPerHit.median.toFixed(0)} (${r.cpuNsPerHit.min.toFixed(0)}–${r.cpuNsPerHit.max.toFixed(0)})`.padEnd(27),
      r.wallNsPerHit.toFixed(0).padStart(11),
      (r.api === "bare" ? "-" : `${signed(r.overBareNs.median)} / ${signed(r.overBareNs.min)}`).padStart(28),
      (r.vsCurrentNs ? `${signed(r.vsCurrentNs.median)} / ${signed(r.vsCurrentNs.min)}` : "-").padStart(25),
    ].join("  "),
  );
}
if (otel) console.log(`spans handed to the exporter: ${await otel.exported()}`);
if (options.json) writeFileSync(options.json, `${JSON.stringify({ options, loadavg: loadavg(), apiLoadable: await apiLoadable(), telemetry: telemetryOf, rows }, null, 2)}\n`);
