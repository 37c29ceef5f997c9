import { SignJWT } from "jose";
import { bytesToBase64Url, randomId, sha256, toBytes } from "./encoding.js";

/** How long a QStash signature stays valid, in seconds (`exp - iat`). */
export const QSTASH_SIGNATURE_LIFETIME_SECONDS = 300;

/** Input of {@link signQStashMessage}. */
export interface SignQStashMessageInput {
  /** The signing key (`sig_...`); its UTF-8 bytes are the HMAC-SHA256 key. */
  signingKey: string;
  /** The destination URL exactly as the message was published; it becomes the `sub` claim. */
  url: string;
  /** The raw body that is delivered; the `body` claim is base64url(sha256(body)). */
  body: string | Uint8Array;
  /**
   * The signing time, unix seconds: `iat` and `nbf`, and `exp` is this plus 300.
   * @default Math.floor(Date.now() / 1000)
   */
  nowSeconds?: number;
}

/**
 * The `body` claim QStash puts in a signature: base64url of the SHA-256 of the raw body, `=` padding kept
 * (the official `Receiver` strips padding on both sides before comparing, so either form verifies).
 */
export async function qstashBodyHash(body: string | Uint8Array): Promise<string> {
  return bytesToBase64Url(await sha256(toBytes(body)));
}

/**
 * Builds the `Upstash-Signature` header QStash sends with a delivery: an HS256 JWT with
 * `iss: "Upstash"`, `sub: url`, `iat`/`nbf` now, `exp` now + 300 s, `jti: "jwt_<random>"` and the body hash.
 * It verifies with `new Receiver({ currentSigningKey, nextSigningKey }).verify({ signature, body, url })`
 * from `@upstash/qstash`. Edge-safe (Web Crypto and `jose` only).
 */
export async function signQStashMessage(input: SignQStashMessageInput): Promise<string> {
  if (!input.signingKey) {
    throw new TypeError("signQStashMessage needs a signingKey: pass the current QStash signing key (sig_...).");
  }
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: "Upstash",
    sub: input.url,
    exp: now + QSTASH_SIGNATURE_LIFETIME_SECONDS,
    nbf: now,
    iat: now,
    jti: randomId("jwt_", 24),
    body: await qstashBodyHash(input.body),
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(input.signingKey));
}
