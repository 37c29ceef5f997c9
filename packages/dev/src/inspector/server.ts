/** The inspector's routes: the page, its two assets, the live view, the value viewer and the actions. */
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Redis } from "@upstash/redis";
import type { DeliveryEngine } from "next-cacheback/delivery";
import { describeError, HttpError } from "../errors.js";
import { readBody, sendJson } from "../http.js";
import type { Actions } from "./actions.js";
import { html } from "./html.js";
import { renderPage, type PageInfo } from "./page.js";
import { checkAction, checkHost, checkToken, SECURITY_HEADERS, type Refusal } from "./security.js";
import { readValue } from "./values.js";
import { parseQuery, snapshot, type ViewSnapshot } from "./view.js";

/** What the routes need. */
export interface InspectorContext {
  /** The Redis REST server, through a client that hands back stored text as it is. */
  raw: Redis;
  engine: DeliveryEngine;
  actions: Actions;
  info: PageInfo;
  /** The port it listens on (known once it listens), for the Host and Origin checks. */
  port: number;
  log: (line: string) => void;
}

/** The page's script and styles, shipped as they are in the package (`assets/`), read once. */
const ASSETS: Record<string, { file: string; type: string; body?: Buffer }> = {
  "/assets/inspector.js": { file: "inspector.js", type: "text/javascript; charset=utf-8" },
  "/assets/inspector.css": { file: "inspector.css", type: "text/css; charset=utf-8" },
};

function asset(path: string): { type: string; body: Buffer } | undefined {
  const found = ASSETS[path];
  if (!found) return undefined;
  // Two levels up from src/inspector/ (the sources) and from dist/inspector/ (the package) alike.
  found.body ??= readFileSync(new URL(`../../assets/${found.file}`, import.meta.url));
  return { type: found.type, body: found.body };
}

/** What the page shows while Redis cannot be read: it says why, and its updates take over once Redis answers. */
function unavailable(prefix: string, error: unknown): ViewSnapshot {
  const why = html`<p class="notice error">Cannot read Redis through the REST server: ${describeError(error)}</p>`.text;
  return { at: Date.now(), prefix, entries: why, locks: "", messages: "", deadLetters: "", deadLetterCount: 0, nextCursor: "0" };
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function refuse(refusal: Refusal): void {
  if (refusal) throw new HttpError(refusal.status, refusal.message);
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req, 64 * 1024);
  try {
    const parsed: unknown = JSON.parse(raw.toString("utf8"));
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Answered below.
  }
  throw new HttpError(400, "The body must be a JSON object.");
}

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== "string" || value === "") throw new HttpError(400, `"${name}" must be a non-empty string.`);
  return value;
}

async function act(ctx: InspectorContext, req: IncomingMessage, res: ServerResponse, action: string): Promise<void> {
  refuse(checkAction(req, ctx.port));
  const body = await jsonBody(req);
  let result;
  switch (action) {
    case "invalidate":
      result = await ctx.actions.invalidate(field(body, "prefix"), field(body, "key"));
      break;
    case "delete":
      result = await ctx.actions.delete(field(body, "prefix"), field(body, "key"));
      break;
    case "redeliver":
      result = await ctx.actions.redeliver(field(body, "id"));
      break;
    case "drop":
      result = ctx.actions.drop(field(body, "id"));
      break;
    default:
      throw new HttpError(404, `No action ${action}.`);
  }
  ctx.log(`[inspector] ${action}: ${result.message}`);
  sendJson(res, result.ok ? 200 : 409, JSON.stringify(result), SECURITY_HEADERS);
}

async function route(ctx: InspectorContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  refuse(checkHost(req, ctx.port));
  const url = new URL(req.url ?? "/", "http://inspector.invalid");
  const method = req.method ?? "GET";
  if (url.pathname.startsWith("/api/actions/")) {
    if (method !== "POST") throw new HttpError(405, "Actions are POST requests.", { allow: "POST" });
    refuse(checkToken(req, ctx.info.token));
    await act(ctx, req, res, url.pathname.slice("/api/actions/".length));
    return;
  }
  if (method !== "GET" && method !== "HEAD") throw new HttpError(405, "Only actions (POST /api/actions/...) change anything.", { allow: "GET, HEAD" });
  if (url.pathname === "/" || url.pathname === "/index.html") {
    const query = parseQuery(url.searchParams, ctx.info.defaultPrefix);
    const view = await snapshot(ctx.raw, ctx.engine, query).catch((error: unknown) => unavailable(query.prefix, error));
    send(res, 200, "text/html; charset=utf-8", renderPage(ctx.info, query, view));
    return;
  }
  const file = asset(url.pathname);
  if (file) {
    send(res, 200, file.type, file.body);
    return;
  }
  if (url.pathname === "/api/view") {
    refuse(checkToken(req, ctx.info.token));
    const view = await snapshot(ctx.raw, ctx.engine, parseQuery(url.searchParams, ctx.info.defaultPrefix));
    sendJson(res, 200, JSON.stringify(view), SECURITY_HEADERS);
    return;
  }
  if (url.pathname === "/api/value") {
    refuse(checkToken(req, ctx.info.token));
    const key = url.searchParams.get("key");
    if (!key) throw new HttpError(400, "Missing the key.");
    const prefix = url.searchParams.get("prefix") || ctx.info.defaultPrefix;
    sendJson(res, 200, JSON.stringify(await readValue(ctx.raw, prefix, key, url.searchParams.get("full") === "1")), SECURITY_HEADERS);
    return;
  }
  throw new HttpError(404, `Not found: ${url.pathname}`);
}

/** The `node:http` request listener of the inspector. Never throws: every failure is a JSON answer. */
export function createInspectorHandler(ctx: InspectorContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    res.on("error", () => {});
    route(ctx, req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (!req.complete) req.resume();
      const status = error instanceof HttpError ? error.status : 502;
      const message = error instanceof HttpError ? error.message : `The inspector could not read Redis or QStash: ${describeError(error)}`;
      if (!(error instanceof HttpError)) ctx.log(`[inspector] ${message}`);
      sendJson(res, status, JSON.stringify({ error: message }), { ...SECURITY_HEADERS, ...(error instanceof HttpError ? error.headers : {}) });
    });
  };
}
