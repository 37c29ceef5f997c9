/**
 * 12. The memory tier: Redis commands for one process serving a page of 10 entries 100 times a second,
 * with and without `memory: { lifetime: 1 }` (bench/lib/page-views.ts), counted at the REST server.
 */
import type { BenchContext } from "../lib/context.js";
import { runVariants, type PageViewRun, type Workload } from "../lib/page-views.js";
import { table, type Section } from "../lib/report.js";

export interface MemoryResult {
  workload: Workload;
  runs: PageViewRun[];
}

/** Runs comparison 12. */
export async function runMemoryTier(ctx: BenchContext, workload: Workload, log: (line: string) => void): Promise<MemoryResult> {
  return { workload, runs: await runVariants(ctx, ["next-cacheback", "next-cacheback-memory"], workload, [], log) };
}

/** Redis commands per entry per second of a run. */
export const perEntrySecond = (run: PageViewRun, w: Workload): number => run.commands / w.entries / w.durationS;

/** What the tier's run says about the goal (at most about one command per entry per second). */
function tierNotes(tier: PageViewRun, w: Workload): string[] {
  const e = tier.events ?? {};
  const seconds = w.entries * w.durationS;
  const stale = e.stale ?? 0;
  return [
    `- With the tier: ${perEntrySecond(tier, w).toFixed(2)} commands per entry per second (goal: about 1 at most). Of them, fresh reads from ` +
      `Redis: ${((e.hit ?? 0) / seconds).toFixed(2)} per entry per second (a copy is taken again once per \`memory.lifetime\`, and the ` +
      `reads that arrive while that read is in flight share it); stale reads from Redis: ${(stale / seconds).toFixed(2)} per entry per second ` +
      `(${stale} reads, about ${(stale / Math.max(1, w.entries)).toFixed(0)} per entry: a stale entry is read from Redis once per ` +
      `\`memory.lifetime\`, and its copy then serves the stale reads, ${e["stale-memory"] ?? 0} of them, until the refresh is seen); the rest ` +
      `are the locks and the refresh route's read and write.`,
  ];
}

/** RESULTS.md section of comparison 12. */
export function memorySection(r: MemoryResult): Section {
  const w = r.workload;
  const label = (run: PageViewRun) => (run.variant === "next-cacheback-memory" ? "next-cacheback, `memory: { lifetime: 1 }`" : "next-cacheback (no memory tier)");
  const tier = r.runs.find((x) => x.variant === "next-cacheback-memory");
  const body = [
    `One process serves a page that reads ${w.entries} entries, ${w.rate} times a second for ${w.durationS} s (${w.rate * w.durationS} page ` +
      `views). Entries are fresh for ${w.lifetimeS} s; written together (by the page's first render), they go stale together once during ` +
      `the run and are refreshed together, through QStash and the refresh route (source ${w.sourceDelayMs} ms). Redis commands counted at ` +
      `the REST server, the route's included; reads by what they found, from next-cacheback's events.`,
    "",
    table(
      ["setting", "page views", "Redis commands", "commands per entry per second", "reads served from memory (fresh / stale)", "fresh reads from Redis", "stale reads from Redis", "other commands (locks, refreshes)", "QStash messages", "read errors"],
      r.runs.map((run) => {
        const e = run.events ?? {};
        const fromRedis = (e.hit ?? 0) + (e.stale ?? 0) + (e.miss ?? 0);
        return [
          label(run),
          run.pageViews,
          run.commands,
          perEntrySecond(run, w).toFixed(2),
          `${e["hit-memory"] ?? 0} / ${e["stale-memory"] ?? 0}`,
          e.hit ?? 0,
          e.stale ?? 0,
          run.commands - fromRedis,
          run.messages,
          run.errors,
        ];
      }),
    ),
    "",
    ...(tier ? tierNotes(tier, w) : []),
    `- The bound that buys it: another instance's write or invalidation reaches this process within \`memory.lifetime\` (1 s here); a ` +
      `copy never makes an entry look fresher than Redis said it was (a stale entry's copy is served stale).`,
  ].join("\n");
  return { title: "12. The memory tier", body };
}
