/**
 * 9. The cache handler's read: `get` of a `'use cache: remote'` entry with 8 tags (and 4 soft tags, as
 * Next.js passes a page's implicit tags) through `createCacheHandler({ redis })`, against a bare
 * @upstash/redis `get` of the same stored entry, in rounds as in comparison 1. Round trips counted at the
 * REST server. Two handler rows: `get` alone, and `get` with its stream read to the end (what Next.js does
 * with a hit).
 */
import { upstashClient } from "../lib/contenders.js";
import type { BenchContext } from "../lib/context.js";
import { loadHandlerEntry } from "../lib/package.js";
import { table, type Section } from "../lib/report.js";
import { roundCells, runRounds, type RoundFigures, type RoundSizes, type RoundSubject } from "../lib/rounds.js";

/** One reader of the handler comparison. */
export interface HandlerRow extends RoundFigures {
  id: "bare-upstash" | "handler-get" | "handler-get-read";
  label: string;
}

export interface HandlerResult {
  options: RoundSizes;
  /** Bytes of the value Next.js hands to `set`, and of the entry as stored. */
  valueBytes: number;
  storedBytes: number;
  rows: HandlerRow[];
}

const KEY = "bench-remote-entry";
const TAGS = ["posts", "post:42", "user:7", "feed:home", "lang:en", "region:eu", "kind:article", "v:1"];
const SOFT_TAGS = ["_N_T_/layout", "_N_T_/posts/layout", "_N_T_/posts/page", "_N_T_/posts"];
/** About the size of comparison 1's value: a small RSC payload. */
const VALUE = new TextEncoder().encode(`0:{"id":42,"title":"A post title of moderate length","body":"${"x".repeat(420)}"}\n`);

function entry(now: number) {
  return {
    value: new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(VALUE);
        controller.close();
      },
    }),
    tags: TAGS,
    stale: 30,
    timestamp: now,
    revalidate: 3600,
    expire: 86_400,
  };
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stream.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.byteLength;
  }
}

/** Runs comparison 9. */
export async function runHandlerGet(ctx: BenchContext, sizes: RoundSizes): Promise<HandlerResult> {
  const { createCacheHandler } = await loadHandlerEntry();
  const prefix = `${ctx.runPrefix}:handler:`;
  const handler = createCacheHandler({ redis: upstashClient(ctx.servers), prefix });
  await handler.set(KEY, Promise.resolve(entry(performance.timeOrigin + performance.now())));
  const first = await handler.get(KEY, SOFT_TAGS);
  if (!first || (await drain(first.value)) !== VALUE.byteLength) throw new Error("the handler did not serve the stored entry");
  const rawKey = `${prefix}hentry:${KEY}`;
  const bare = upstashClient(ctx.servers);
  const stored = await bare.get<string>(rawKey);
  if (typeof stored !== "string") throw new Error(`no handler entry stored under ${rawKey}`);

  const subjects: (RoundSubject & { id: HandlerRow["id"]; label: string })[] = [
    { id: "bare-upstash", label: "bare @upstash/redis get", baseline: "bare-upstash", transport: "upstash", op: () => bare.get(rawKey) },
    { id: "handler-get", label: "handler get", baseline: "bare-upstash", transport: "upstash", op: () => handler.get(KEY, SOFT_TAGS) },
    {
      id: "handler-get-read",
      label: "handler get + stream read",
      baseline: "bare-upstash",
      transport: "upstash",
      op: async () => {
        const hit = await handler.get(KEY, SOFT_TAGS);
        if (!hit) throw new Error("the handler answered a miss");
        return drain(hit.value);
      },
    },
  ];
  const figures = await runRounds(ctx, subjects, sizes);
  return {
    options: sizes,
    valueBytes: VALUE.byteLength,
    storedBytes: Buffer.byteLength(stored),
    rows: subjects.map((s) => ({ id: s.id, label: s.label, ...figures.get(s.id)! })),
  };
}

/** RESULTS.md section of comparison 9. */
export function handlerSection(r: HandlerResult): Section {
  const o = r.options;
  const get = r.rows.find((x) => x.id === "handler-get")!;
  const body = [
    `\`createCacheHandler({ redis, prefix })\` from \`next-cacheback/cache-handler\` (an explicit @upstash/redis client). One entry, as ` +
      `Next.js hands it to \`set\` (a ${r.valueBytes}-byte value, 8 tags; stored as ${r.storedBytes} bytes), read with ` +
      `\`get(key, softTags)\` and 4 soft tags (a page's implicit tags), in ${o.rounds} rounds of ${o.sequential} reads one at a time and ` +
      `${o.concurrent} with ${o.inFlight} in flight. The bare \`get\` reads the same stored entry.`,
    "",
    table(
      ["reader", "seq. reads/s", "seq. p50 ms", "seq. p99 ms", `${o.inFlight} in flight reads/s`, "p50 ms", "p99 ms", "seq. ratio (range)", `${o.inFlight}-in-flight ratio (range)`, "HTTP requests per read", "Redis commands per read", "client CPU µs per read (seq. / in flight)", "REST server CPU µs per read"],
      r.rows.map((x) => [
        x.label,
        ...roundCells(x, x.id === "bare-upstash"),
        x.requestsPerOp!.sequential.toFixed(2),
        x.commandsPerOp.toFixed(2),
        `${x.sequential.cpuUsPerOp.toFixed(0)} / ${x.concurrent.cpuUsPerOp.toFixed(0)}`,
        (x.serverCpuUsPerOp ?? Number.NaN).toFixed(0),
      ]),
    ),
    "",
    `- A handler \`get\` of an entry with 8 tags and 4 soft tags is ${get.requestsPerOp!.sequential.toFixed(2)} HTTP request and ` +
      `${get.commandsPerOp.toFixed(2)} Redis command (one \`EVALSHA\`: the entry, its tags' and the soft tags' stamps, the verdict), as a bare \`get\` is.`,
    `- The handler decodes the stored text (a header, the tags, the value in base64) and hands Next.js a new stream of the bytes; the ` +
      `"+ stream read" row also reads that stream to the end, as Next.js does with a hit. The REST server's CPU column is the dev ` +
      `server process's (HTTP and the Redis protocol); the script itself (the entry and 12 stamp keys) runs inside redis-server, not ` +
      `counted there. Where the in-flight ratio is below 1, the client CPU column shows how much of it is the handler's own work.`,
  ].join("\n");
  return { title: "9. The cache handler's get", body };
}
