/** The HTTP plumbing both dev servers share: JSON answers, bounded request bodies, bearer tokens. */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "./errors.js";

/** Answers `status` with `body`, a JSON text. */
export function sendJson(res: ServerResponse, status: number, body: string, headers?: Readonly<Record<string, string>>): void {
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/**
 * Answers `{"error": message}` with `status`. When the request body has not been read to its end, the rest
 * is drained and the connection closed after the answer. When the answer has already begun, the connection
 * is cut instead.
 */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  let extra = headers;
  if (!req.complete) {
    extra = { ...headers, connection: "close" };
    req.resume();
  }
  sendJson(res, status, JSON.stringify({ error: message }), extra);
}

/**
 * Reads the whole request body, at most `limit` bytes, and rejects a larger one with a 413 {@link HttpError}.
 * A larger body is never buffered: past the limit (or from the start, when `Content-Length` announces more)
 * the bytes are discarded. It is still read to its end before the promise rejects, so the client has sent
 * everything when the 413 comes: it reads the answer instead of a reset connection, and a keep-alive
 * connection stays usable.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(req.headers["content-length"]) > limit;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on("end", () => {
      if (tooLarge) reject(new HttpError(413, `The request body is larger than the limit of ${limit} bytes.`));
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.on("error", reject);
  });
}

/**
 * The token of an `Authorization: Bearer <token>` header: `undefined` when the header is absent or blank,
 * `null` when it holds something other than a bearer token.
 */
export function bearerToken(header: string | undefined): string | null | undefined {
  const text = header?.trim();
  if (text === undefined || text === "") return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(text);
  return match ? (match[1] as string).trim() : null;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * Whether `given` is `expected`, in constant time: both are hashed (SHA-256) to buffers of the same length,
 * which `timingSafeEqual` compares, so neither the content nor the length of the token leaks through timing.
 */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}
