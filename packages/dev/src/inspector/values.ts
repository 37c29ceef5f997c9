/** One entry's value, read on demand (one `GET`), formatted for reading. */
import type { Redis } from "@upstash/redis";
import { decodeEnvelope } from "next-cacheback";
import { SEGMENTS } from "./keys.js";
import { parsePageHead } from "./page-entries.js";

/** Characters of formatted value sent unless the whole value is asked for. */
export const VALUE_PREVIEW_CHARS = 64 * 1024;

/** What the value viewer shows. */
export interface ValueView {
  key: string;
  /** `false` when the key holds nothing (any more). */
  found: boolean;
  /** Bytes stored under the key. */
  size: number;
  /** The envelope's or page entry's metadata, formatted as JSON. */
  meta: string;
  /** The value, formatted (JSON with two-space indents, or the page's text). */
  text: string;
  /** Characters in the whole formatted value. */
  length: number;
  /** Whether `text` stops before the end (ask again with `full`). */
  truncated: boolean;
}

function pageValue(raw: string): { meta: string; text: string } {
  const head = parsePageHead(raw);
  if (!head) return { meta: "(not a cache-handler entry)", text: raw };
  const split = raw.indexOf("\n\n", raw.indexOf("\n") + 1);
  const body = split === -1 ? "" : raw.slice(split + 2);
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(body, "base64"));
  } catch {
    decoded = `(binary, ${Buffer.from(body, "base64").length} bytes, base64:)\n${body}`;
  }
  return { meta: JSON.stringify(head, null, 2), text: decoded };
}

function dataValue(raw: string): { meta: string; text: string } {
  const envelope = decodeEnvelope(raw);
  if (!envelope) return { meta: "(not a next-cacheback entry: shown as stored)", text: raw };
  const { value, ...header } = envelope;
  return { meta: JSON.stringify(header, null, 2), text: JSON.stringify(value, null, 2) ?? String(value) };
}

/** Reads the value under `key` (a data or page entry of `prefix`), formatted; at most {@link VALUE_PREVIEW_CHARS} unless `full`. */
export async function readValue(redis: Redis, prefix: string, key: string, full: boolean): Promise<ValueView> {
  const raw = await redis.get<string>(key);
  if (typeof raw !== "string") return { key, found: false, size: 0, meta: "", text: "", length: 0, truncated: false };
  const { meta, text } = key.startsWith(prefix + SEGMENTS.page.entry) ? pageValue(raw) : dataValue(raw);
  const truncated = !full && text.length > VALUE_PREVIEW_CHARS;
  return { key, found: true, size: Buffer.byteLength(raw), meta, text: truncated ? text.slice(0, VALUE_PREVIEW_CHARS) : text, length: text.length, truncated };
}
