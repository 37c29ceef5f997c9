import { hashHex } from "./hash.js";
import { CachebackKeyError } from "./errors.js";
import { findNonJson } from "./json-shape.js";

/** A cache key: a job name alone, or a job name followed by the arguments its fetcher takes. */
export type CacheKey<A extends readonly unknown[] = readonly unknown[]> = string | readonly [name: string, ...args: A];

/** Longest job name accepted. */
export const MAX_JOB_NAME_LENGTH = 200;
/** Argument lists whose canonical JSON is longer than this are stored under their SHA-256. */
export const MAX_INLINE_ARGS_LENGTH = 200;
/** Deepest nesting of arrays and objects accepted in a key's arguments. */
export const MAX_ARGS_DEPTH = 64;

// Object keys that reach prototypes when code copies or merges an object: never accepted in arguments.
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Whether `s` holds a control character (U+0000–U+001F or U+007F): a newline would make keys ambiguous in logs and Redis tooling. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Checks a job name and returns it; throws a {@link CachebackKeyError} saying what is wrong. */
export function checkJobName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0) {
    throw new CachebackKeyError(`A cache key needs a non-empty job name, got ${JSON.stringify(name) ?? String(name)}`);
  }
  if (name.length > MAX_JOB_NAME_LENGTH) {
    throw new CachebackKeyError(`Job name "${name.slice(0, 40)}..." is ${name.length} characters; the limit is ${MAX_JOB_NAME_LENGTH}`);
  }
  if (hasControl(name)) {
    throw new CachebackKeyError(`Job name ${JSON.stringify(name)} contains a control character (a newline?); use printable characters only`);
  }
  return name;
}

/** JSON with object keys sorted, so equal arguments always give the same key. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      // A prototype-less object keeps every own key as data (an own "__proto__" included).
      const sorted = Object.create(null) as Record<string, unknown>;
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

/**
 * Why a key's arguments cannot be used structurally (nested deeper than {@link MAX_ARGS_DEPTH}, or an
 * object key `__proto__`, `constructor` or `prototype`), with the path; `undefined` when they can.
 * Never recurses deeper than the limit, so hostile input cannot exhaust the stack.
 */
export function argsShapeProblem(args: readonly unknown[]): string | undefined {
  const walk = (v: unknown, path: string, depth: number): string | undefined => {
    if (v === null || typeof v !== "object") return undefined;
    if (depth > MAX_ARGS_DEPTH) return `${path} is nested more than ${MAX_ARGS_DEPTH} levels deep`;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const found = walk(v[i], `${path}[${i}]`, depth + 1);
        if (found) return found;
      }
      return undefined;
    }
    for (const k of Object.keys(v)) {
      const at = /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
      if (UNSAFE_KEYS.has(k)) return `${at} uses the key "${k}", which is refused (it reaches object prototypes); rename it`;
      const found = walk((v as Record<string, unknown>)[k], at, depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return walk(args, "args", 0);
}

/** True when every argument is a string, boolean, null or finite number: JSON as is, nothing to walk. */
function primitivesOnly(args: readonly unknown[]): boolean {
  for (const a of args) {
    if (a === null || typeof a === "string" || typeof a === "boolean") continue;
    if (typeof a === "number" && Number.isFinite(a)) continue;
    return false;
  }
  return true;
}

/**
 * `JSON.stringify(s)`: quotes alone when nothing in `s` needs escaping (no quote, backslash, control
 * character or surrogate), the common case of an id or a slug, which is cheaper than calling the builtin.
 */
function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** `JSON.stringify(args)` built directly when every argument is a primitive; `undefined` otherwise. */
function primitiveArgsJson(args: readonly unknown[]): string | undefined {
  let json = "[";
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (i > 0) json += ",";
    if (typeof a === "string") json += jsonString(a);
    else if (a === null || typeof a === "boolean" || (typeof a === "number" && Number.isFinite(a))) json += String(a);
    else return undefined;
  }
  return `${json}]`;
}

/** Splits a key into its job name and arguments, checking both. */
export function splitKey(key: CacheKey): { name: string; args: unknown[] } {
  if (typeof key === "string") return { name: checkJobName(key), args: NO_ARGS as unknown[] };
  if (!Array.isArray(key) || key.length === 0) {
    throw new CachebackKeyError("A cache key is a string or a non-empty array [jobName, ...args]");
  }
  const name = key[0] as unknown;
  checkJobName(name);
  return { name: name as string, args: checkArgs(name as string, key.slice(1)) };
}

/** The arguments of a key without any: shared, never written to. */
const NO_ARGS: readonly unknown[] = Object.freeze([]);

/**
 * `args`, when they can be a key's arguments (plain JSON, not nested past the limit, no prototype keys);
 * otherwise a {@link CachebackKeyError} saying what is wrong.
 */
export function checkArgs(name: string, args: unknown[]): unknown[] {
  if (primitivesOnly(args)) return args; // the common case: nothing nested to check
  const shape = argsShapeProblem(args);
  if (shape) throw new CachebackKeyError(`The arguments of job "${name}" cannot be used in a cache key: ${shape}`);
  const bad = findNonJson(args);
  if (bad) {
    throw new CachebackKeyError(`The arguments of job "${name}" must be plain JSON (they travel in the refresh message): args${bad.path.slice(1)} is not`);
  }
  return args;
}

/**
 * The entry's id inside the prefix: `name` for a job without arguments, `name:<canonical JSON of args>`
 * otherwise, or `name:#<sha256>` when that JSON is long.
 */
export function entryId(name: string, args: readonly unknown[]): string {
  if (args.length === 0) return name;
  const json = primitiveArgsJson(args) ?? canonicalJson(args);
  if (json.length <= MAX_INLINE_ARGS_LENGTH) return `${name}:${json}`;
  return `${name}:#${hashHex(json)}`;
}

/** Redis keys of one entry and of its refresh lock, under an instance prefix. */
export class EntryKeys {
  /** The entry's id inside the prefix. */
  readonly id: string;
  /** The entry's key. */
  readonly entry: string;
  readonly #prefix: string;

  constructor(prefix: string, id: string) {
    this.#prefix = prefix;
    this.id = id;
    this.entry = `${prefix}entry:${id}`;
  }

  /** The refresh lock's key (built when asked: a hit never needs it). */
  get lock(): string {
    return `${this.#prefix}lock:${this.id}`;
  }
}

/** Builds the Redis keys for `name(...args)` under `prefix`. */
export function entryKeys(prefix: string, name: string, args: readonly unknown[]): EntryKeys {
  return new EntryKeys(prefix, entryId(name, args));
}

/** A cache key taken apart and checked, with the Redis keys of its entry under an instance prefix. */
export interface KeyParts {
  name: string;
  args: unknown[];
  keys: EntryKeys;
}

/** {@link splitKey} and {@link entryKeys} of `key` under `prefix`. */
export function keyParts(prefix: string, key: CacheKey): KeyParts {
  const { name, args } = splitKey(key);
  return { name, args, keys: entryKeys(prefix, name, args) };
}

/** The Redis key of a tag's stamp under `prefix` (the tag already encoded). */
export function tagKey(prefix: string, tag: string): string {
  return `${prefix}tag:${tag}`;
}

/** The Redis key of the shared version clock under `prefix`. */
export function clockKey(prefix: string): string {
  return `${prefix}clock`;
}

/** The Redis key that marks the refresh holding lock `token` as completed (so a redelivery skips it). */
export function doneKey(prefix: string, token: string): string {
  return `${prefix}done:${token}`;
}
