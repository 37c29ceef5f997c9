import { encodeEnvelope } from "../entry.js";
import type { ResolvedRefreshOptions } from "../options.js";
import { assertJson } from "../assert-json.js";
import { jsonSerializer, type Serializer } from "../serializer.js";

/**
 * Serializes `value` into a stored envelope written at `writtenAt`, fresh for the options' lifetime, with its tags.
 * @throws CachebackSerializationError naming `key` and the path when the data is not plain JSON.
 */
export function encodeEntry<T>(
  key: string,
  value: T,
  serializer: Serializer<T>,
  opts: ResolvedRefreshOptions,
  version: number,
  writtenAt: number,
  tags?: readonly string[],
): string {
  const data = serializer.serialize(value);
  assertJson(data, key, serializer === jsonSerializer ? "value" : "serialized value");
  return encodeEnvelope({ writtenAt, freshUntil: writtenAt + opts.lifetime * 1000, version }, JSON.stringify(data), tags);
}
