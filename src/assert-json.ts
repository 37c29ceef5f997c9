import { CachebackSerializationError } from "./errors.js";
import { findNonJson } from "./json-shape.js";

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
