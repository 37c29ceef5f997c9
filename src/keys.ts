import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { CachebackKeyError } from "./errors.js";
import { findNonJson } from "./serializer.js";

/** A cache key: a job name alone, or a job name followed by the arguments its fetcher takes. */
export type CacheKey<A extends readonly unknown[] = readonly unknown[]> = string | readonly [name: string, ...args: A];

/** Longest job name accepted. */
export const MAX_JOB_NAME_LENGTH = 200;
/** Argument lists whose canonical JSON is longer than this are stored under their SHA-256. */
export const MAX_INLINE_ARGS_LENGTH = 200;

// Control characters (including newlines) would make keys ambiguous in logs and in Redis tooling.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Checks a job name and returns it; throws a {@link CachebackKeyError} saying what is wrong. */
export function checkJobName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0) {
    throw new CachebackKeyError(`A cache key needs a non-empty job name, got ${JSON.stringify(name) ?? String(name)}`);
  }
  if (name.length > MAX_JOB_NAME_LENGTH) {
    throw new CachebackKeyError(`Job name "${name.slice(0, 40)}..." is ${name.length} characters; the limit is ${MAX_JOB_NAME_LENGTH}`);
  }
  if (CONTROL.test(name)) {
    throw new CachebackKeyError(`Job name ${JSON.stringify(name)} contains a control character (a newline?); use printable characters only`);
  }
  return name;
}

/** JSON with object keys sorted, so equal arguments always give the same key. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

/** Splits a key into its job name and arguments, checking both. */
export function splitKey(key: CacheKey): { name: string; args: unknown[] } {
  if (typeof key === "string") return { name: checkJobName(key), args: [] };
  if (!Array.isArray(key) || key.length === 0) {
    throw new CachebackKeyError("A cache key is a string or a non-empty array [jobName, ...args]");
  }
  const [name, ...args] = key as readonly unknown[];
  checkJobName(name);
  const bad = findNonJson(args);
  if (bad) {
    throw new CachebackKeyError(
      `The arguments of job "${String(name)}" must be plain JSON (they travel in the refresh message): args${bad.path.slice(1)} is not`,
    );
  }
  return { name: name as string, args };
}

/**
 * The entry's id inside the prefix: `name` for a job without arguments, `name:<canonical JSON of args>`
 * otherwise, or `name:#<sha256>` when that JSON is long.
 */
export function entryId(name: string, args: readonly unknown[]): string {
  if (args.length === 0) return name;
  const json = canonicalJson(args);
  if (json.length <= MAX_INLINE_ARGS_LENGTH) return `${name}:${json}`;
  return `${name}:#${bytesToHex(sha256(utf8ToBytes(json)))}`;
}

/** Redis keys of one entry and of its refresh lock, under an instance prefix. */
export interface EntryKeys {
  id: string;
  entry: string;
  lock: string;
}

/** Builds the Redis keys for `name(...args)` under `prefix`. */
export function entryKeys(prefix: string, name: string, args: readonly unknown[]): EntryKeys {
  const id = entryId(name, args);
  return { id, entry: `${prefix}entry:${id}`, lock: `${prefix}lock:${id}` };
}
