/**
 * The Redis keys next-cacheback writes under a prefix, as the inspector reads them back: data entries
 * (`<prefix>entry:<job>[:<canonical args JSON> | :#<sha256>]`), their refresh locks (`<prefix>lock:<id>`),
 * and the `'use cache: remote'` handler's entries and regeneration locks (`<prefix>hentry:<key>`,
 * `<prefix>hlock:<key>`). Tag stamps (`<prefix>tag:<tag>`), the clock (`<prefix>clock`) and completion
 * marks (`<prefix>done:<token>`) are read by name, never listed.
 */

/** Which entries a listing shows: next-cacheback's data entries, or the cache handler's page entries. */
export type EntryKind = "data" | "page";

/** The segment after the prefix that starts each kind of key. */
export const SEGMENTS = {
  data: { entry: "entry:", lock: "lock:" },
  page: { entry: "hentry:", lock: "hlock:" },
} as const satisfies Record<EntryKind, { entry: string; lock: string }>;

/** What an entry's id says about the job it caches. */
export interface DecodedId {
  /** The job name. */
  job: string;
  /** The arguments, decoded from the key; `undefined` for a hashed key (and `[]` for a job without arguments). */
  args: unknown[] | undefined;
  /** The SHA-256 (hex) of the arguments' canonical JSON, for a key too long to hold them. */
  hash: string | undefined;
}

const HASHED = /^(.*):#([0-9a-f]{64})$/;

/**
 * Splits a data entry's id (the key without `<prefix>entry:`) into its job and arguments: `job`,
 * `job:<JSON array>`, or `job:#<sha256>`. A job name may hold colons, so the arguments are the first
 * `:[` from which the rest parses as a JSON array.
 */
export function decodeEntryId(id: string): DecodedId {
  const hashed = HASHED.exec(id);
  if (hashed) return { job: hashed[1] as string, args: undefined, hash: hashed[2] as string };
  if (id.endsWith("]")) {
    for (let at = id.indexOf(":["); at !== -1; at = id.indexOf(":[", at + 1)) {
      try {
        const args: unknown = JSON.parse(id.slice(at + 1));
        if (Array.isArray(args)) return { job: id.slice(0, at), args, hash: undefined };
      } catch {
        // Not the start of the arguments: a colon and a bracket inside the job name; look further.
      }
    }
  }
  return { job: id, args: [], hash: undefined };
}

/** `text` with the glob characters of Redis's `MATCH` (`* ? [ ] \`) escaped, to match it literally. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}
