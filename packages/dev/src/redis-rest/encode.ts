/**
 * Writes a Redis reply (as ioredis returns it with buffer replies and string numbers) as JSON text.
 *
 * - bulk and status replies (Buffers): base64 of their bytes when `base64` is set, else their UTF-8 text;
 * - integer replies (decimal strings): JSON numbers, digit for digit;
 * - nil: `null`; arrays: recursively;
 * - an error nested in an array (a script may return one): its message, never encoded.
 */
export function encodeReply(reply: unknown, base64: boolean): string {
  if (reply === null || reply === undefined) return "null";
  if (Buffer.isBuffer(reply)) return base64 ? `"${reply.toString("base64")}"` : JSON.stringify(reply.toString("utf8"));
  if (typeof reply === "string") return /^-?\d+$/.test(reply) ? reply : JSON.stringify(reply);
  if (typeof reply === "number") return Number.isFinite(reply) ? String(reply) : "null";
  if (Array.isArray(reply)) {
    if (reply.length === 0) return "[]";
    let out = "[" + encodeReply(reply[0], base64);
    for (let i = 1; i < reply.length; i++) out += "," + encodeReply(reply[i], base64);
    return out + "]";
  }
  if (reply instanceof Error) return JSON.stringify(reply.message);
  return JSON.stringify(String(reply));
}

/** `{"result": <reply>}` as JSON text. */
export function encodeResult(reply: unknown, base64: boolean): string {
  return `{"result":${encodeReply(reply, base64)}}`;
}

/** `{"error": <message>}` as JSON text. */
export function encodeError(message: string): string {
  return `{"error":${JSON.stringify(message)}}`;
}
