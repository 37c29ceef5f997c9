/**
 * The stored form of a cache-handler entry: text, so that it travels over Upstash's REST API (JSON) as is,
 * and laid out so that a Lua script reads what it needs without cjson:
 *
 * ```
 * cbh1 <version>\n
 * {"timestamp":T,"revalidate":R,"expire":E,"stale":S}\n
 * <tag 1>\n
 * ...
 * <tag n>\n
 * \n
 * <the value's bytes, base64>
 * ```
 *
 * - `version`: when the entry's data began to be computed, on the shared clock (tag stamps are compared
 *   with it). It comes first so the write script can put in a version it reads there.
 * - The metadata line is JSON with its fields in this order (the scripts match it by position).
 * - One tag per line (tags are printable ASCII: see `storedTag`), then an empty line.
 * - The value's bytes in base64: binary-safe whatever they are.
 */

/** The first word of every stored entry. */
export const FORMAT_TAG = "cbh1";

/** The metadata of an entry, as Next.js gives it (seconds, and ms for `timestamp`). */
export interface EntryMeta {
  timestamp: number;
  revalidate: number;
  expire: number;
  stale: number;
}

/** A stored entry, decoded. */
export interface StoredHandlerEntry extends EntryMeta {
  version: number;
  tags: string[];
  value: Uint8Array;
}

/** Next.js's "forever" (`INFINITE_CACHE`, 0xfffffffe s): what a duration that is not finite is stored as. */
const FOREVER = 0xfffffffe;

const finite = (n: number): number => (Number.isFinite(n) ? n : n < 0 ? -FOREVER : FOREVER);

/** The metadata line (without its newline). */
function metaLine(meta: EntryMeta): string {
  const t = Number.isFinite(meta.timestamp) ? meta.timestamp : 0;
  return `{"timestamp":${t},"revalidate":${finite(meta.revalidate)},"expire":${finite(meta.expire)},"stale":${finite(meta.stale)}}`;
}

/**
 * Everything after `cbh1 <version>`: the part a write sends, so the script can put the version in front.
 * `tags` must be stored tags (see `storedTag`).
 */
export function encodeEntryBody(meta: EntryMeta, tags: readonly string[], value: Uint8Array): string {
  let text = `\n${metaLine(meta)}\n`;
  for (const tag of tags) text += `${tag}\n`;
  return `${text}\n${toBase64(value)}`;
}

/** The whole stored text of an entry. */
export function encodeEntry(entry: StoredHandlerEntry): string {
  return `${FORMAT_TAG} ${Math.trunc(entry.version)}${encodeEntryBody(entry, entry.tags, entry.value)}`;
}

const HEAD = /^cbh1 (\d+)\n(\{"timestamp":[^\n]*\})\n/;

/** Decodes a stored text; `null` when it is not a handler entry. */
export function decodeEntry(text: unknown): StoredHandlerEntry | null {
  if (typeof text !== "string") return null;
  const head = HEAD.exec(text);
  if (!head) return null;
  let meta: EntryMeta;
  try {
    meta = JSON.parse(head[2]!) as EntryMeta;
  } catch {
    return null;
  }
  const tags: string[] = [];
  let at = head[0].length;
  for (;;) {
    const end = text.indexOf("\n", at);
    if (end < 0) return null;
    if (end === at) break;
    tags.push(text.slice(at, end));
    at = end + 1;
  }
  const { timestamp, revalidate, expire, stale } = meta;
  if (![timestamp, revalidate, expire, stale].every((n) => typeof n === "number")) return null;
  return { version: Number(head[1]), timestamp, revalidate, expire, stale, tags, value: fromBase64(text.slice(at + 1)) };
}

const hasBuffer = (): boolean => typeof Buffer !== "undefined";

/** Base64 of `bytes` (Node's Buffer when there is one). */
export function toBase64(bytes: Uint8Array): string {
  if (hasBuffer()) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The bytes of a base64 text, in a buffer of their own (never a slice of Node's shared pool). */
export function fromBase64(text: string): Uint8Array {
  if (hasBuffer()) return Uint8Array.prototype.slice.call(Buffer.from(text, "base64"));
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
