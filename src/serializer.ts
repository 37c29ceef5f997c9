import { CachebackSerializationError } from "./errors.js";

/**
 * Turns a value into JSON-compatible data for storage, and back. `superjson` fits as is:
 * `serializer: { serialize: superjson.serialize, deserialize: superjson.deserialize }`.
 */
export interface Serializer<T = unknown> {
  /** Returns data that `JSON.stringify` carries faithfully (plain objects, arrays, strings, finite numbers, booleans, null). */
  serialize(value: T): unknown;
  /** The inverse of `serialize`. */
  deserialize(data: unknown): T;
}

function describe(value: unknown): string {
  if (typeof value === "bigint") return "a BigInt";
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return "a symbol";
  if (typeof value === "undefined") return "undefined";
  if (typeof value === "number") return String(value);
  if (value instanceof Date) return "a Date";
  if (value instanceof Map) return "a Map";
  if (value instanceof Set) return "a Set";
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  return ctor ? `an instance of ${ctor}` : "a non-plain object";
}

function hint(value: unknown): string {
  if (value instanceof Date) return " Store date.toISOString() instead, or pass a serializer such as superjson.";
  if (typeof value === "bigint") return " Store it as a string, or pass a serializer such as superjson.";
  return " Convert it to plain JSON first, or pass a `serializer` option that handles it (superjson, for example).";
}

/**
 * Finds the first place in `value` that JSON would not carry faithfully. Returns its path
 * (`$` is the root) and the offending value, or `undefined` when the whole value is plain JSON.
 * `undefined` object properties are allowed (JSON drops them, which reads back the same).
 */
export function findNonJson(value: unknown): { path: string; value: unknown; reason?: string } | undefined {
  const ancestors = new Set<object>();
  const walk = (v: unknown, path: string): { path: string; value: unknown; reason?: string } | undefined => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return undefined;
    if (typeof v === "number") return Number.isFinite(v) ? undefined : { path, value: v };
    if (typeof v !== "object") return { path, value: v };
    if (ancestors.has(v)) return { path, value: v, reason: "a reference cycle" };
    if (Array.isArray(v)) {
      ancestors.add(v);
      for (let i = 0; i < v.length; i++) {
        const found = walk(v[i], `${path}[${i}]`);
        if (found) return found;
      }
      ancestors.delete(v);
      return undefined;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return { path, value: v };
    ancestors.add(v);
    for (const k of Object.keys(v)) {
      const child = (v as Record<string, unknown>)[k];
      if (child === undefined) continue;
      const found = walk(child, /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`);
      if (found) return found;
    }
    ancestors.delete(v);
    return undefined;
  };
  return walk(value, "$");
}

/**
 * Throws a {@link CachebackSerializationError} naming `key` and the path when `data` is not plain JSON.
 */
export function assertJson(data: unknown, key: string, what = "value"): void {
  const found = findNonJson(data);
  if (!found) return;
  const reason = found.reason ?? describe(found.value);
  throw new CachebackSerializationError(
    `Cannot cache the ${what} of "${key}": ${found.path} is ${reason}, which JSON cannot carry faithfully.${found.reason ? " Remove the cycle or pass a serializer that handles it." : hint(found.value)}`,
    key,
    found.path,
  );
}

/** The default serializer: plain JSON values pass through; anything else is refused at write time. */
export const jsonSerializer: Serializer<unknown> = Object.freeze({
  serialize: (value: unknown) => value,
  deserialize: (data: unknown) => data,
});
