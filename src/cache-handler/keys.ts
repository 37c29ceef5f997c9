import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { clockKey, tagKey } from "../keys.js";

/** Cache keys up to this long, in printable ASCII, are used as they are; others by their SHA-256. */
const MAX_INLINE_KEY_LENGTH = 200;
const PRINTABLE = /^[\x20-\x7e]*$/;

/** The Redis keys of one cache-handler entry. */
export interface HandlerKeys {
  /** `<prefix>hentry:<id>`: the entry. */
  entry: string;
  /** `<prefix>hlock:<id>`: the regeneration lock (`SET NX PX`, like the data path's `<prefix>lock:`). */
  lock: string;
}

/**
 * The keys of Next.js's `cacheKey` under `prefix`: the key itself when it is short printable text, else
 * `#` and its SHA-256 (Next.js's keys carry the build id, the function id and the encoded arguments).
 */
export function handlerKeys(prefix: string, cacheKey: string): HandlerKeys {
  const id = cacheKey.length <= MAX_INLINE_KEY_LENGTH && PRINTABLE.test(cacheKey) ? cacheKey : `#${bytesToHex(sha256(utf8ToBytes(cacheKey)))}`;
  return { entry: `${prefix}hentry:${id}`, lock: `${prefix}hlock:${id}` };
}

/** The shared keys: the version clock and the tag stamps' prefix (`tagKey(prefix, tag)` is `tagPrefix + tag`). */
export function sharedKeys(prefix: string): { clock: string; tagPrefix: string } {
  return { clock: clockKey(prefix), tagPrefix: tagKey(prefix, "") };
}

const OUT_OF_CLASS_RUN = /[^\t\x20-\x7e]+/g;

/**
 * A tag as stored: Next.js hands tags percent-encoded outside printable ASCII already (`caf%C3%A9`), as
 * next-cacheback's `encodeTag` writes them, so both caches name a tag alike. Anything else outside that
 * class (a newline from a hand-made call) is encoded the same way here, so one tag stays one line of the
 * stored header. Never throws.
 */
export function storedTag(tag: string): string {
  return tag.replace(OUT_OF_CLASS_RUN, (run) => {
    try {
      return encodeURIComponent(run);
    } catch {
      return encodeURIComponent(run.replace(/[\ud800-\udfff]/g, "\ufffd"));
    }
  });
}
