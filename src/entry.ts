/**
 * The stored envelope, and the pure fresh / stale / too-stale decision.
 *
 * An entry is one JSON string: `{"writtenAt":W,"freshUntil":F,"version":V,"value":<data>}`, in that
 * order, with integers, followed by `,"tags":[...]` before the closing brace when the entry has tags.
 * The fixed header lets a store rewrite the timestamps (in a Redis script, say) without decoding or
 * re-encoding the value: see {@link readHeader} and {@link replaceHeader}.
 *
 * - `writtenAt`: when the value was written, ms since the epoch; the entry's age counts from it.
 * - `freshUntil`: fresh before this instant (ms), stale from it on (`invalidate` sets it to 0).
 * - `version`: when the data was taken (a refresh's start, a `set`, an `invalidate`) on the version clock
 *   (`version-clock.ts`: ms × 1000 plus a counter, so events of one millisecond keep their order); a
 *   refresh writes only over an entry whose version is not newer than its own start.
 */

/** The timestamps of an entry: what a store reads and rewrites without touching the value. */
export interface EnvelopeHeader {
  writtenAt: number;
  freshUntil: number;
  version: number;
}

/** A decoded entry. `value` is the serializer's output, not yet deserialized. */
export interface Envelope extends EnvelopeHeader {
  value: unknown;
  /** The (encoded) tags the entry was written with; absent when it has none. */
  tags?: string[];
}

/**
 * What a store finds under an entry key: the decoded envelope; `null` when the key holds nothing; or
 * `"unreadable"` when it holds something that is not an envelope (a read treats it as a miss, `peek`
 * reports it, and the next write replaces it). Build it with {@link toStoredEntry}.
 */
export type StoredEntry = Envelope | "unreadable" | null;

/** The read status of an entry at one instant. */
export type EntryState = "miss" | "fresh" | "stale" | "too-stale";

/** Builds the stored string. `dataJson` is `JSON.stringify` of the serializer's output. */
export function encodeEnvelope(header: EnvelopeHeader, dataJson: string, tags?: readonly string[]): string {
  const tail = tags && tags.length > 0 ? `,"tags":${JSON.stringify(tags)}}` : "}";
  return `${headerText(header)}"value":${dataJson}${tail}`;
}

/** The header's text, up to and including the comma before `"value":`. */
function headerText(h: EnvelopeHeader): string {
  return `{"writtenAt":${Math.trunc(h.writtenAt)},"freshUntil":${Math.trunc(h.freshUntil)},"version":${Math.trunc(h.version)},`;
}

const HEADER = /^\{"writtenAt":(\d+),"freshUntil":(\d+),"version":(\d+),"value":/;

/** Reads the timestamps of a stored string without parsing the value; `undefined` when it is not an envelope. */
export function readHeader(raw: string): EnvelopeHeader | undefined {
  const m = HEADER.exec(raw);
  if (!m) return undefined;
  return { writtenAt: Number(m[1]), freshUntil: Number(m[2]), version: Number(m[3]) };
}

/**
 * The stored string with its header replaced and its value kept byte for byte; `undefined` when `raw`
 * is not an envelope. (A store that keeps strings uses it for `markStale`.)
 */
export function replaceHeader(raw: string, update: (header: EnvelopeHeader) => EnvelopeHeader): string | undefined {
  const header = readHeader(raw);
  if (!header) return undefined;
  return headerText(update(header)) + raw.slice(headerText(header).length);
}

/** `markStale`'s rewrite of a header: stale now, version raised to at least `version` (pure). */
export function staleHeader(header: EnvelopeHeader, version: number): EnvelopeHeader {
  return { writtenAt: header.writtenAt, freshUntil: 0, version: Math.max(header.version, Math.trunc(version)) };
}

const isTime = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/**
 * Decodes what a store holds: a JSON string, or an object when the Redis client parsed it already (that
 * object is then the envelope itself: nothing is copied). Anything that is not a well-formed envelope
 * gives `undefined`; it never throws.
 */
export function decodeEnvelope(stored: unknown): Envelope | undefined {
  let obj: unknown = stored;
  if (typeof stored === "string") {
    try {
      obj = JSON.parse(stored);
    } catch {
      return undefined;
    }
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return undefined;
  const e = obj as Record<string, unknown>;
  if (!isTime(e.writtenAt) || !isTime(e.freshUntil) || !isTime(e.version) || !("value" in e)) return undefined;
  if (e.tags !== undefined && !(Array.isArray(e.tags) && e.tags.length > 0 && e.tags.every((t) => typeof t === "string"))) return undefined;
  return e as unknown as Envelope;
}

/**
 * What a store's `get` returns for the raw value it read: `null` for nothing (`null` or `undefined`),
 * the decoded envelope, or `"unreadable"`.
 */
export function toStoredEntry(raw: unknown): StoredEntry {
  if (raw === null || raw === undefined) return null;
  return decodeEnvelope(raw) ?? "unreadable";
}

/**
 * The pure decision at the heart of the read path.
 * @param now milliseconds since the epoch
 * @param fetchOnStaleThresholdSec seconds; a stale entry older than this is `too-stale`
 */
export function entryState(
  entry: Pick<Envelope, "writtenAt" | "freshUntil"> | undefined,
  now: number,
  fetchOnStaleThresholdSec?: number,
): EntryState {
  if (!entry) return "miss";
  if (now < entry.freshUntil) return "fresh";
  if (fetchOnStaleThresholdSec !== undefined && now - entry.writtenAt > fetchOnStaleThresholdSec * 1000) {
    return "too-stale";
  }
  return "stale";
}

/** Age of an entry in seconds at `now` (never negative, even with a clock that went back). */
export function entryAgeSeconds(entry: Pick<Envelope, "writtenAt">, now: number): number {
  return Math.max(0, now - entry.writtenAt) / 1000;
}
