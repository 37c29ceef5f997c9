/**
 * 14. What OpenTelemetry costs a hit. next-cacheback's own CPU per fresh hit, measured by
 * bench/profile/hit-micro.ts (the read path over a stub store whose `get` resolves at once, against a bare
 * `get` of the same stub: the HTTP client's cost, the same for both, is left out, so a fraction of a µs
 * shows), in three child processes of their own, one per setting:
 *   - `@opentelemetry/api` not installed (hidden by bench/otel/hide-api.mjs: nothing of it resolves);
 *   - installed, no provider registered (the default inside Next.js without instrumentation);
 *   - tracer and meter providers registered (`--otel both`), the hit traced; the same process also
 *     measures an instance with `telemetry: false`, so the traced hit is compared within one process.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { table, type Section } from "../lib/report.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Sizes of the runs: hits per subject per round, and rounds (figures are medians over rounds). */
export interface TelemetrySizes {
  n: number;
  rounds: number;
  inFlight: number[];
}

/** One setting's figures for one subject at one in-flight count. */
export interface TelemetryRow {
  setting: "api absent" | "api installed, no provider" | "providers registered";
  /** `traced` for the instance with telemetry on (whether it is on is `telemetry`), `untraced` for `telemetry: false`. */
  subject: "traced" | "untraced";
  /** What the instance reported: "on" (spans and metrics are recorded) or "off". */
  telemetry: string;
  inFlight: number;
  /** next-cacheback's CPU per hit, ns: the median over rounds, and the fastest round. */
  cpuNs: { median: number; min: number };
  /** The same, less the bare `get`'s in the same rounds. */
  overBareNs: { median: number; min: number };
}

export interface TelemetryResult {
  sizes: TelemetrySizes;
  rows: TelemetryRow[];
}

interface MicroJson {
  apiLoadable: boolean;
  telemetry: string[];
  rows: { subject: string; api: string; inFlight: number; cpuNsPerHit: { median: number; min: number }; overBareNs: { median: number; min: number } }[];
}

async function micro(setting: TelemetryRow["setting"], sizes: TelemetrySizes, dir: string): Promise<TelemetryRow[]> {
  const json = join(dir, `${setting.replace(/\W+/g, "-")}.json`);
  const args = [
    ...(setting === "api absent" ? ["--import", "./bench/otel/hide-api.mjs"] : []),
    "--import",
    "tsx",
    "bench/profile/hit-micro.ts",
    "--api",
    "fetch",
    "--n",
    String(sizes.n),
    "--rounds",
    String(sizes.rounds),
    "--in-flight",
    sizes.inFlight.join(","),
    ...(setting === "providers registered" ? ["--otel", "both"] : []),
    "--json",
    json,
  ];
  await run(process.execPath, args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  const out = JSON.parse(readFileSync(json, "utf8")) as MicroJson;
  if ((setting === "api absent") === out.apiLoadable) throw new Error(`hit-micro (${setting}): @opentelemetry/api was ${out.apiLoadable ? "" : "not "}loadable`);
  const state = (name: string) => out.telemetry.find((t) => t.startsWith(`${name}: `))?.slice(name.length + 2) ?? "?";
  return out.rows
    .filter((r) => r.api === "fetch")
    .map((r) => {
      const untraced = r.subject.startsWith("current telemetry:false");
      return {
        setting,
        subject: untraced ? ("untraced" as const) : ("traced" as const),
        telemetry: state(untraced ? "current telemetry:false" : "current"),
        inFlight: r.inFlight,
        cpuNs: { median: r.cpuNsPerHit.median, min: r.cpuNsPerHit.min },
        overBareNs: r.overBareNs,
      };
    });
}

/** Runs comparison 14: one child process per setting, one after the other. */
export async function runTelemetry(sizes: TelemetrySizes, log: (line: string) => void): Promise<TelemetryResult> {
  const dir = mkdtempSync(join(tmpdir(), "cacheback-bench-otel-"));
  try {
    const rows: TelemetryRow[] = [];
    for (const setting of ["api absent", "api installed, no provider", "providers registered"] as const) {
      log(`  ${setting}`);
      rows.push(...(await micro(setting, sizes, dir)));
    }
    return { sizes, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ns = (x: number) => `${x >= 0 ? "" : "−"}${Math.abs(x).toFixed(0)}`;

/** The traced hit's extra CPU over the untraced one in the same process, ns (median), at `inFlight`. */
export function tracedExtraNs(r: TelemetryResult, inFlight: number): number | undefined {
  const at = r.rows.filter((x) => x.setting === "providers registered" && x.inFlight === inFlight);
  const traced = at.find((x) => x.subject === "traced");
  const untraced = at.find((x) => x.subject === "untraced");
  return traced && untraced ? traced.cpuNs.median - untraced.cpuNs.median : undefined;
}

/** RESULTS.md section of comparison 14. */
export function telemetrySection(r: TelemetryResult): Section {
  const { n, rounds } = r.sizes;
  const hit = (setting: TelemetryRow["setting"], k: number) => r.rows.find((x) => x.setting === setting && x.subject === "traced" && x.inFlight === k);
  const notes = r.sizes.inFlight.map((k) => {
    const absent = hit("api absent", k);
    const installed = hit("api installed, no provider", k);
    const extra = tracedExtraNs(r, k);
    return (
      `- ${k} in flight: without a provider, a hit costs ${absent ? ns(absent.overBareNs.median) : "?"} ns over the bare \`get\` with the API absent and ` +
      `${installed ? ns(installed.overBareNs.median) : "?"} ns with it installed (separate processes: a difference of a few tens of ns is noise); ` +
      `traced, ${extra === undefined ? "?" : ns(extra)} ns more than the same process's \`telemetry: false\` instance.`
    );
  });
  const body = [
    `next-cacheback's own CPU per fresh hit, without the network (\`bench/profile/hit-micro.ts\`: the read path over a stub store whose \`get\` ` +
      `resolves at once, against a bare \`get\` of the same stub), \`cb.fetch\`, ${rounds} rounds of ${n.toLocaleString("en-US")} hits per subject ` +
      `and in-flight count; one child process per setting. "API absent" runs under \`bench/otel/hide-api.mjs\`, as an app without ` +
      `\`@opentelemetry/api\`; "providers registered" registers the SDK's BasicTracerProvider (a BatchSpanProcessor, an exporter that drops ` +
      `what it gets, the AsyncLocalStorage context manager) and a MeterProvider, and measures an instance with \`telemetry: false\` beside ` +
      `the traced one. Medians over rounds, with the fastest round (noise only ever adds time).`,
    "",
    table(
      ["setting", "instance", "telemetry", "in flight", "CPU ns per hit (median / fastest)", "over the bare get, ns (median / fastest)"],
      r.rows.map((x) => [
        x.setting,
        x.subject === "untraced" ? "`telemetry: false`" : "default",
        x.telemetry,
        x.inFlight,
        `${ns(x.cpuNs.median)} / ${ns(x.cpuNs.min)}`,
        `${ns(x.overBareNs.median)} / ${ns(x.overBareNs.min)}`,
      ]),
    ),
    "",
    ...notes,
    "- Over HTTP the same differences add to a hit's client CPU of 15–30 µs (comparison 1), and against Upstash to a round trip of milliseconds.",
  ].join("\n");
  return { title: "14. What OpenTelemetry costs a hit", body };
}
