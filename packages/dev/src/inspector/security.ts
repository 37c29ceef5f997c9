/**
 * Who may use the inspector. It listens on 127.0.0.1 only. Every request must name it by a loopback Host
 * (`127.0.0.1:<port>` or `localhost:<port>`), which defeats DNS rebinding: a page of another site cannot
 * reach it under a name of its own. Its API needs the per-process token the page carries (a header, which
 * no cross-site form or image can send, and which a cross-site `fetch` could only send after a CORS
 * preflight the inspector never grants); an action (a POST) must also come from the inspector's own
 * origin when the browser says where it comes from (`Origin`, `Sec-Fetch-Site`), and carry JSON. GETs
 * change nothing.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { tokenMatches } from "../http.js";

/** The header the page sends its token in. */
export const TOKEN_HEADER = "x-inspector-token";

/** A new per-process token: 32 random bytes, base64url. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The origins the inspector answers as (its own). */
export function ownOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

/** Why a request is refused (`undefined`: it may go on). */
export type Refusal = { status: number; message: string } | undefined;

/** The Host check, for every request. */
export function checkHost(req: IncomingMessage, port: number): Refusal {
  const host = req.headers.host?.toLowerCase();
  if (host === `127.0.0.1:${port}` || host === `localhost:${port}`) return undefined;
  return { status: 421, message: `The inspector answers as 127.0.0.1:${port} or localhost:${port} only.` };
}

/** The token check, for every API request. */
export function checkToken(req: IncomingMessage, token: string): Refusal {
  const given = req.headers[TOKEN_HEADER];
  if (typeof given === "string" && given !== "" && tokenMatches(given, token)) return undefined;
  return { status: 403, message: `Missing or wrong ${TOKEN_HEADER} header: use the inspector's page, which holds the token.` };
}

/** The same-origin checks, for every action. */
export function checkAction(req: IncomingMessage, port: number): Refusal {
  const origin = req.headers.origin;
  if (origin !== undefined && !ownOrigins(port).includes(origin)) {
    return { status: 403, message: `Cross-site request refused (Origin ${origin}).` };
  }
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin") return { status: 403, message: `Cross-site request refused (Sec-Fetch-Site ${String(site)}).` };
  if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
    return { status: 415, message: "An action must be sent as application/json." };
  }
  return undefined;
}

/** Headers on every answer: nothing cached, nothing framed, scripts and styles from the inspector only. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
};
