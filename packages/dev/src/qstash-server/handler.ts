/** The routes of the local QStash server: authentication, the `/v2/*` API, the console page, and error answers. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { DeliveryEngineClosedError, QStashPublishError, type DeliveryEngine } from "next-cacheback/delivery";
import { describeError, HttpError } from "../errors.js";
import { bearerToken, sendError, sendJson, tokenMatches } from "../http.js";
import { destinationFrom, handleBatch, handlePublish } from "./publish.js";
import { consolePage, messageView } from "./views.js";

/** What the request handler needs. */
export interface QStashContext {
  readonly engine: DeliveryEngine;
  /** The bearer token every `/v2/*` request must carry. */
  readonly token: string;
  readonly currentSigningKey: string;
  readonly nextSigningKey: string;
  /** The largest message body accepted, in bytes. */
  readonly maxBodyBytes: number;
  readonly log: (line: string) => void;
  /** The server's base URL, shown on the console page (known once it listens). */
  url: string;
}

function checkAuth(req: IncomingMessage, token: string): void {
  const given = bearerToken(req.headers.authorization);
  if (given === undefined) {
    throw new HttpError(
      401,
      'Unauthorized: missing Authorization header. Send "Authorization: Bearer <QSTASH_TOKEN>" with the token this dev server prints.',
    );
  }
  if (given === null || !tokenMatches(given, token)) {
    throw new HttpError(401, "Unauthorized: invalid token. Use the QSTASH_TOKEN this dev server prints at startup.");
  }
}

function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(404, `not found: "${raw}" is not a valid id`);
  }
}

/** The origin-form target of a request: an absolute-form target (`http://host/path`) loses its scheme and host. */
function requestTarget(raw: string | undefined): string {
  const target = raw ?? "/";
  const absolute = /^https?:\/\/[^/?]*/i.exec(target);
  if (!absolute) return target;
  const rest = target.slice(absolute[0].length);
  return rest.startsWith("/") ? rest : `/${rest}`;
}

function requireMethod(req: IncomingMessage, allowed: string[]): void {
  if (!allowed.includes(req.method ?? "")) {
    throw new HttpError(405, `method not allowed: use ${allowed.join(" or ")}`, { Allow: allowed.join(", ") });
  }
}

function sendValue(res: ServerResponse, status: number, value: unknown): void {
  sendJson(res, status, JSON.stringify(value));
}

/** `GET|DELETE /v2/messages/<id>`: one message, or cancel it while it waits. */
function serveMessage(ctx: QStashContext, req: IncomingMessage, res: ServerResponse, rawId: string): void {
  requireMethod(req, ["GET", "DELETE"]);
  const id = decodeId(rawId);
  const record = ctx.engine.message(id);
  if (!record) throw new HttpError(404, `message ${id} not found (it may have been dropped from the log)`);
  if (req.method === "GET") sendValue(res, 200, messageView(record));
  else if (ctx.engine.cancel(id)) sendValue(res, 200, { cancelled: 1 });
  else throw new HttpError(400, `message ${id} is already ${record.state}: only waiting messages can be cancelled`);
}

/** `GET|DELETE /v2/dlq/<id>`: one dead letter (by `dlqId` or `messageId`), or remove it. */
function serveDeadLetter(ctx: QStashContext, req: IncomingMessage, res: ServerResponse, rawId: string): void {
  requireMethod(req, ["GET", "DELETE"]);
  const id = decodeId(rawId);
  const record = ctx.engine.deadLetters().find((letter) => letter.dlqId === id || letter.messageId === id);
  if (!record) throw new HttpError(404, `dead letter ${id} not found`);
  if (req.method === "GET") {
    sendValue(res, 200, messageView(record));
  } else {
    ctx.engine.deleteDeadLetter(id);
    sendValue(res, 200, { deleted: 1 });
  }
}

async function handleV2(ctx: QStashContext, req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> {
  checkAuth(req, ctx.token);
  if (path.startsWith("/v2/publish/")) {
    requireMethod(req, ["POST"]);
    await handlePublish(ctx, req, res, destinationFrom(path.slice("/v2/publish/".length) + query));
    return;
  }
  switch (path) {
    case "/v2/publish":
      requireMethod(req, ["POST"]);
      throw new HttpError(400, "missing destination: publish to /v2/publish/<absolute http(s) URL>");
    case "/v2/batch":
      requireMethod(req, ["POST"]);
      await handleBatch(ctx, req, res);
      return;
    case "/v2/keys":
      requireMethod(req, ["GET"]);
      sendValue(res, 200, { current: ctx.currentSigningKey, next: ctx.nextSigningKey });
      return;
    case "/v2/messages":
      requireMethod(req, ["GET"]);
      sendValue(res, 200, { messages: ctx.engine.messages().map(messageView) });
      return;
    case "/v2/dlq":
      requireMethod(req, ["GET"]);
      sendValue(res, 200, { messages: ctx.engine.deadLetters().map(messageView) });
      return;
  }
  const message = /^\/v2\/messages\/([^/]+)$/.exec(path);
  if (message) return serveMessage(ctx, req, res, message[1] as string);
  const deadLetter = /^\/v2\/dlq\/([^/]+)$/.exec(path);
  if (deadLetter) return serveDeadLetter(ctx, req, res, deadLetter[1] as string);
  throw new HttpError(404, `not found: ${req.method ?? "GET"} ${path} is not an endpoint of the local QStash`);
}

async function route(ctx: QStashContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = requestTarget(req.url);
  const queryAt = raw.indexOf("?");
  const path = queryAt === -1 ? raw : raw.slice(0, queryAt);
  const query = queryAt === -1 ? "" : raw.slice(queryAt);
  if (path === "/" || path === "/index.html") {
    requireMethod(req, ["GET", "HEAD"]);
    const page = consolePage({ url: ctx.url, messages: ctx.engine.messages(), deadLetters: ctx.engine.deadLetters() });
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(page) });
    res.end(req.method === "HEAD" ? undefined : page);
    return;
  }
  if (path.startsWith("/v2/") || path === "/v2") {
    await handleV2(ctx, req, res, path, query);
    return;
  }
  throw new HttpError(404, `not found: ${path} is not an endpoint of the local QStash`);
}

function fail(ctx: QStashContext, req: IncomingMessage, res: ServerResponse, error: unknown): void {
  if (error instanceof HttpError) sendError(req, res, error.status, error.message, error.headers);
  else if (error instanceof QStashPublishError) sendError(req, res, error.status, error.message);
  else if (error instanceof DeliveryEngineClosedError) sendError(req, res, 503, error.message);
  else {
    const message = `internal error in the local QStash: ${describeError(error)}`;
    ctx.log(`[qstash] ${message}`);
    sendError(req, res, 500, message);
  }
}

/** The `node:http` request listener of the QStash server. Never throws; every failure is an HTTP answer. */
export function createRequestHandler(ctx: QStashContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    res.on("error", () => {});
    route(ctx, req, res).catch((error: unknown) => fail(ctx, req, res, error));
  };
}
