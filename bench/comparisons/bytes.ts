/**
 * 7. Bytes: what each cache stores in Redis for one value, against the value's own JSON (the envelope's
 * overhead), read back with STRLEN from redis-server.
 */
import { LABELS, LIBRARIES, makeContender, type Library } from "../lib/contenders.js";
import type { BenchContext } from "../lib/context.js";
import { table, type Section } from "../lib/report.js";

/** The stored size of one value in one cache. */
export interface BytesRow {
  library: Library;
  value: string;
  jsonBytes: number;
  storedBytes: number;
  keyBytes: number;
}

const PERIODS = { freshMs: 3_600_000, staleMs: 86_400_000 };

/** The values measured: small, typical and large. */
export const BYTE_VALUES: Record<string, unknown> = {
  "small (a number and a short string)": { id: 7, name: "Ada" },
  "typical (a post)": { id: 42, title: "A post title of moderate length", tags: ["a", "b", "c"], body: "x".repeat(400) },
  "large (200 rows)": Array.from({ length: 200 }, (_, i) => ({ id: i, sku: `SKU-${1000 + i}`, price: 9.99 + i, inStock: i % 3 !== 0 })),
};

/** Runs comparison 7. */
export async function runBytes(ctx: BenchContext): Promise<BytesRow[]> {
  const rows: BytesRow[] = [];
  for (const library of LIBRARIES) {
    const contender = makeContender(library, ctx.config(library, PERIODS));
    let n = 0;
    for (const [label, value] of Object.entries(BYTE_VALUES)) {
      const key = `bytes-${n++}`;
      await contender.seedFresh(key, value);
      const rawKey = contender.rawKey(key);
      await ctx.stored(rawKey);
      rows.push({
        library,
        value: label,
        jsonBytes: Buffer.byteLength(JSON.stringify(value)),
        storedBytes: await ctx.admin.strlen(rawKey),
        keyBytes: Buffer.byteLength(rawKey) - Buffer.byteLength(ctx.config(library, PERIODS).prefix),
      });
    }
    await contender.close();
  }
  return rows;
}

/** RESULTS.md section of comparison 7. */
export function bytesSection(rows: readonly BytesRow[]): Section {
  const ours = rows.filter((r) => r.library === "next-cacheback").map((r) => r.storedBytes - r.jsonBytes);
  const span = (xs: number[]) => (Math.min(...xs) === Math.max(...xs) ? `${xs[0]}` : `${Math.min(...xs)}–${Math.max(...xs)}`);
  const body = [
    `Each cache stores the same values; STRLEN of the stored string against the length of the value's own JSON. ` +
      `"key bytes" is the key each cache builds for the name, not counting the benchmark's own prefix.`,
    "",
    table(
      ["value", "cache", "JSON bytes", "stored bytes", "overhead bytes", "overhead %", "key bytes"],
      rows.map((r) => [
        r.value,
        LABELS[r.library],
        r.jsonBytes,
        r.storedBytes,
        r.storedBytes - r.jsonBytes,
        `${(((r.storedBytes - r.jsonBytes) / r.jsonBytes) * 100).toFixed(1)}%`,
        r.keyBytes,
      ]),
    ),
    "",
    `- next-cacheback's envelope is \`{"writtenAt":…,"freshUntil":…,"version":…,"value":…}\`: a fixed overhead of ` +
      `${span(ours)} bytes whatever the size of the value (three timestamps and their names; \`version\` is milliseconds × 1000), against ` +
      `${LIBRARIES.filter((l) => l !== "next-cacheback")
        .map((l) => `${span(rows.filter((r) => r.library === l).map((r) => r.storedBytes - r.jsonBytes))} for ${LABELS[l]}`)
        .join(", ")}.`,
  ].join("\n");
  return { title: "7. Bytes stored per entry", body };
}
