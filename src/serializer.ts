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

/** The default serializer: plain JSON values pass through; anything else is refused at write time. */
export const jsonSerializer: Serializer<unknown> = Object.freeze({
  serialize: (value: unknown) => value,
  deserialize: (data: unknown) => data,
});
