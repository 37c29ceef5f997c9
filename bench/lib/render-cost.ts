/**
 * RESULTS.md's parts for the comparisons of what a read, a tag, a handler call and a page view cost
 * (8 onwards): their results' types, sections and headline lines.
 */
import { batchSection, type BatchResult } from "../comparisons/batch.js";
import { billOf, billSection, type BillResult } from "../comparisons/bill.js";
import { handlerSection, type HandlerResult } from "../comparisons/handler.js";
import { memorySection, perEntrySecond, type MemoryResult } from "../comparisons/memory.js";
import { regenerateSection, type RegenerateResult } from "../comparisons/regenerate.js";
import { tagsSection, type TagsResult } from "../comparisons/tags.js";
import { telemetrySection, tracedExtraNs, type TelemetryResult } from "../comparisons/telemetry.js";
import { ms, ratio, type Section } from "./report.js";

/** The figures of comparisons 8 onwards (part of results.json). */
export interface CostResults {
  tags?: TagsResult;
  handler?: HandlerResult;
  regenerate?: RegenerateResult;
  batch?: BatchResult;
  memory?: MemoryResult;
  bill?: BillResult;
  telemetry?: TelemetryResult;
}

/** Sections of comparisons 8 onwards, in order. */
export function costSections(r: CostResults): Section[] {
  const sections: Section[] = [];
  if (r.tags) sections.push(tagsSection(r.tags));
  if (r.handler) sections.push(handlerSection(r.handler));
  if (r.regenerate) sections.push(regenerateSection(r.regenerate));
  if (r.batch) sections.push(batchSection(r.batch));
  if (r.memory) sections.push(memorySection(r.memory));
  if (r.bill) sections.push(billSection(r.bill));
  if (r.telemetry) sections.push(telemetrySection(r.telemetry));
  return sections;
}

/** Headline lines of comparisons 8 onwards. */
export function costHeadline(r: CostResults): string[] {
  const lines: string[] = [];
  if (r.tags) {
    const tagged = r.tags.hit.find((x) => x.id === "tagged")!;
    const bento = r.tags.hit.find((x) => x.id === "bentocache-tagged")!;
    const ours = r.tags.invalidation.filter((x) => x.library === "next-cacheback");
    const most = Math.max(...ours.map((x) => x.tags));
    const largest = Math.max(...ours.map((x) => x.entries));
    const worst = ours.filter((x) => x.tags === most && x.entries === largest)[0];
    lines.push(
      `- **Tags**: a hit on an entry with 8 tags runs at ${ratio(tagged.ratio.sequential.median)} a bare \`get\` one at a time and ` +
        `${ratio(tagged.ratio.concurrent.median)} with ${r.tags.options.hit.inFlight} in flight, with ${tagged.requestsPerOp!.sequential.toFixed(2)} ` +
        `HTTP request and ${tagged.commandsPerOp.toFixed(2)} Redis command (bentocache: ${bento.commandsPerOp.toFixed(2)} commands). ` +
        (worst ? `Invalidating ${most} tags with ${largest.toLocaleString("en-US")} entries stored: ${worst.requests.toFixed(2)} request, ${worst.commands.toFixed(2)} command, p50 ${worst.p50ms.toFixed(2)} ms.` : ""),
    );
  }
  if (r.handler) {
    const get = r.handler.rows.find((x) => x.id === "handler-get")!;
    const bare = r.handler.rows.find((x) => x.id === "bare-upstash")!;
    lines.push(
      `- **Cache handler**: a \`get\` of a \`'use cache: remote'\` entry with 8 tags is ${get.requestsPerOp!.sequential.toFixed(2)} HTTP request and ` +
        `${get.commandsPerOp.toFixed(2)} Redis command; p50/p99 ${ms(get.sequential.p50ms)}/${ms(get.sequential.p99ms)} ms one at a time against ` +
        `${ms(bare.sequential.p50ms)}/${ms(bare.sequential.p99ms)} ms for a bare \`get\` (${ratio(get.ratio.sequential.median)} its throughput; ` +
        `${ratio(get.ratio.concurrent.median)} with ${r.handler.options.inFlight} in flight).`,
    );
  }
  if (r.regenerate) {
    const per = (h: string) => r.regenerate!.runs.find((x) => x.handler === h)?.windows.map((w) => w.regenerations).join(", ") ?? "n/a";
    lines.push(
      `- **Regenerations**: ${r.regenerate.options.processes} \`next start\` processes reading one stale \`'use cache: remote'\` entry together ` +
        `regenerated it ${per("next-cacheback")} time(s) per window with next-cacheback's handler, ${per("default")} with Next.js's default handler.`,
    );
  }
  if (r.batch) {
    const [batched, single] = r.batch.rows;
    if (batched && single) {
      lines.push(
        `- **Batching**: a page that reads ${batched.entries} stale entries in one process published ${batched.messages} QStash message(s) ` +
          `(${single.messages} with \`batchWindow: 0\`) for ${batched.refreshed} refreshes.`,
      );
    }
  }
  if (r.memory) {
    const w = r.memory.workload;
    const [plain, tier] = r.memory.runs;
    if (plain && tier) {
      lines.push(
        `- **Memory tier**: a page of ${w.entries} entries served ${w.rate} times a second for ${w.durationS} s cost ${plain.commands} Redis commands ` +
          `(${perEntrySecond(plain, w).toFixed(1)} per entry per second); with \`memory: { lifetime: 1 }\`, ${tier.commands} ` +
          `(${perEntrySecond(tier, w).toFixed(2)} per entry per second).`,
      );
    }
  }
  if (r.bill) {
    const t = r.bill.trafficPerSec;
    const at = (v: string) => r.bill!.runs.find((x) => x.variant === v);
    const text = (v: string, name: string) => {
      const run = at(v);
      if (!run) return undefined;
      const b = billOf(run, t);
      return `${name} ${b.commandsPerK.toFixed(0)} commands + ${b.messagesPerK.toFixed(2)} messages ($${(b.redis + b.qstash).toFixed(0)}/month)`;
    };
    const parts = [
      text("next-cacheback", "next-cacheback"),
      text("next-cacheback-memory", "with the memory tier"),
      text("cachified", "cachified"),
      text("bentocache", "bentocache"),
      text("unkey", "unkey"),
    ].filter(Boolean);
    lines.push(`- **The bill** per 1,000 page views of a ${r.bill.workload.entries}-entry page (lifetime ${r.bill.workload.lifetimeS} s; monthly at ${t} page views/s): ${parts.join("; ")}.`);
  }
  if (r.telemetry) {
    const k = Math.max(...r.telemetry.sizes.inFlight);
    const over = (setting: string) => r.telemetry!.rows.find((x) => x.setting === setting && x.subject === "traced" && x.inFlight === k)?.overBareNs.median;
    const absent = over("api absent");
    const installed = over("api installed, no provider");
    const extra = tracedExtraNs(r.telemetry, k);
    const f = (x: number | undefined) => (x === undefined ? "n/a" : `${(x / 1000).toFixed(2)} µs`);
    lines.push(
      `- **OpenTelemetry** (next-cacheback's own CPU per hit, ${k} in flight, without the network): ${f(absent)} over a bare \`get\` without ` +
        `\`@opentelemetry/api\`, ${f(installed)} with it installed and no provider; a traced hit ${f(extra)} more than an untraced one.`,
    );
  }
  return lines;
}
