import type { IncomingMessage, ServerResponse } from "node:http";
import { RestRequestError } from "./request-error.js";

const JSON_TYPE = "application/json";

/** Answers `status` with a JSON text body. */
export function sendJson(res: ServerResponse, status: number, body: string, extraHeaders?: Record<string, string>): void {
  res.writeHead(status, {
    "content-type": JSON_TYPE,
    "content-length": Buffer.byteLength(body),
    ...extraHeaders,
  });
  res.end(body);
}

function tooLarge(limit: number): RestRequestError {
  return new RestRequestError(413, `The request body is larger than the limit of ${limit} bytes (maxBodyBytes).`);
}

/**
 * Reads the whole request body, at most `limit` bytes. A body announced larger rejects at once; one that
 * turns out larger is read to its end (so the client sees the answer) and then rejects; both with a 413
 * {@link RestRequestError}.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > limit) {
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > limit) reject(tooLarge(limit));
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.on("error", reject);
  });
}

/**
 * Checks the bearer token (`Authorization: Bearer <token>`, or a `_token` query parameter). Returns the
 * 401 message to answer, or `undefined` when the token is right.
 */
export function checkToken(req: IncomingMessage, query: string | undefined, token: string): string | undefined {
  const header = req.headers.authorization;
  let given: string | undefined;
  if (header !== undefined) {
    const space = header.indexOf(" ");
    if (space === -1 || header.slice(0, space).toLowerCase() !== "bearer") return "Invalid token";
    given = header.slice(space + 1).trim();
  } else if (query !== undefined) {
    given = new URLSearchParams(query).get("_token") ?? undefined;
  }
  if (given === undefined) return "Unauthorized: send the header 'Authorization: Bearer <token>'";
  return given === token ? undefined : "Invalid token";
}
