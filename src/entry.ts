/**
 * The stored envelope and the pure fresh / stale / too-stale decision.
 *
 * An entry is one JSON string: `{"writtenAt":W,"freshUntil":F,"version":V,"value":<data>}`, in that
 * order, with integers. The fixed header lets the Redis scripts read and rewrite the timestamps without
 * decoding (or re-encoding) the value.
 *
 * - `writtenAt`: when the value was written, ms since the epoch; the entry's age counts from it.
 * - `freshUntil`: fresh before this instant (ms), stale from it on (`invalidate` sets it to 0).
 * - `version`: when the data was taken (a refresh's start, a `set`, an `invalidate`) on the version clock
 *   (`version-clock.ts`: ms × 1000 plus a counter, so events of one millisecond keep their order); a
 *   refresh writes only over an entry whose version is not newer than its own start.
 */

/** A decoded entry. `data` is the serializer's output, not yet deserialized. */
export interface Envelope {
  writtenAt: number;
  freshUntil: number;
  version: number;
  data: unknown;
}

/** The read status of an entry at one instant. */
export type EntryState = "miss" | "fresh" | "stale" | "too-stale";

/** Builds the stored string. `dataJson` is `JSON.stringify` of the serializer's output. */
export function encodeEnvelope(meta: Omit<Envelope, "data">, dataJson: string): string {
  return `{"writtenAt":${Math.trunc(meta.writtenAt)},"freshUntil":${Math.trunc(meta.freshUntil)},"version":${Math.trunc(meta.version)},"value":${dataJson}}`;
}

const HEADER = /^\{"writtenAt":(\d+),"freshUntil":(\d+),"version":(\d+),"value":/;

/** Reads the timestamps of a stored string without parsing the value; `undefined` when it is not ours. */
export function readHeader(raw: string): Omit<Envelope, "data"> | undefined {
  const m = HEADER.exec(raw);
  if (!m) return undefined;
  return { writtenAt: Number(m[1]), freshUntil: Number(m[2]), version: Number(m[3]) };
}

const isTime = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/**
 * Decodes what the store returned: a JSON string, or an object when the Redis client deserialized it
 * already. Anything that is not a well-formed envelope gives `undefined` (the reader treats it as a miss
 * and the next write replaces it); it never throws.
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
  return { writtenAt: e.writtenAt, freshUntil: e.freshUntil, version: e.version, data: e.value };
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
