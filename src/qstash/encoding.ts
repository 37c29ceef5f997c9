/** Byte and text helpers built on Web APIs only (Edge-safe). */

const encoder = new TextEncoder();

/** The UTF-8 bytes of a string, or a private copy of the given bytes. */
export function toBytes(body: string | Uint8Array): Uint8Array<ArrayBuffer> {
  return typeof body === "string" ? encoder.encode(body) : new Uint8Array(body);
}

/** Standard base64 (with padding) of some bytes. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let index = 0; index < bytes.length; index += chunk) {
    binary += String.fromCharCode(...bytes.subarray(index, index + chunk));
  }
  return btoa(binary);
}

/** Base64url (RFC 4648 §5) of some bytes, `=` padding kept. */
export function bytesToBase64Url(bytes: Uint8Array): string {
  return bytesToBase64(bytes).replaceAll("+", "-").replaceAll("/", "_");
}

/** The bytes as UTF-8 text, or `undefined` when they are not valid UTF-8. */
export function bytesToUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** SHA-256 of some bytes (Web Crypto). */
export async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** Lowercase hex of some bytes. */
export function bytesToHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

const ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A random identifier: `prefix` followed by `length` base62 characters from `crypto.getRandomValues`. */
export function randomId(prefix: string, length = 27): string {
  const out: string[] = [];
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      // 248 = 4 * 62: reject the tail so every character is equally likely.
      if (byte < 248 && out.length < length) out.push(ID_ALPHABET[byte % 62] as string);
    }
  }
  return prefix + out.join("");
}
