import type { IncomingMessage, ServerResponse } from "node:http";
import { describeError, HttpError, RedisUnreachableError } from "../errors.js";
import { bearerToken, readBody, sendError, sendJson, tokenMatches } from "../http.js";
import { isReplyError, type Outcome, type RedisBridge } from "./bridge.js";
import { parseCommand, parseCommandList, parseJsonBody, type RedisArg, type RedisCommand } from "./commands.js";
import { encodeError, encodeResult } from "./encode.js";
import { CommandRefusedError, placeCommand, type Placement } from "./policy.js";

/** Counters of what a Redis REST server has served. */
export interface RedisRestStats {
  /** HTTP requests received, whatever their outcome. */
  requests: number;
  /** Redis commands sent (a pipeline or transaction counts each of its commands). */
  commands: number;
  /** `/pipeline` requests that reached Redis. */
  pipelines: number;
  /** `/multi-exec` requests that reached Redis. */
  transactions: number;
}

/** What the request handler needs. */
export interface HandlerContext {
  readonly bridge: RedisBridge;
  readonly token: string;
  readonly maxBodyBytes: number;
  readonly stats: RedisRestStats;
  /** Lowercase names of the commands the `/<command>/<arg>...` path form accepts. */
  readonly pathCommands: ReadonlySet<string>;
}

const WELCOME = JSON.stringify({
  result:
    "next-cacheback dev: Upstash Redis REST server. POST a command as a JSON array to /, or an array of them to /pipeline or /multi-exec.",
});

function wantsBase64(req: IncomingMessage): boolean {
  const encoding = req.headers["upstash-encoding"];
  return typeof encoding === "string" && encoding.toLowerCase() === "base64";
}

function methodNotAllowed(allow: string, method: string, path: string): HttpError {
  return new HttpError(405, `Method ${method} is not allowed on ${path}: use ${allow.replace(", ", " or ")}`, { allow });
}

function fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  if (error instanceof HttpError) sendError(req, res, error.status, error.message, error.headers);
  else if (error instanceof CommandRefusedError || isReplyError(error)) sendError(req, res, 400, error.message);
  else if (error instanceof RedisUnreachableError) sendError(req, res, 500, error.message);
  else sendError(req, res, 500, `Internal error of the Redis REST server: ${describeError(error)}`);
}

/**
 * Checks the bearer token (`Authorization: Bearer <token>`, or a `_token` query parameter), and throws the
 * 401 {@link HttpError} to answer when it is missing or wrong.
 */
function authorize(ctx: HandlerContext, req: IncomingMessage, query: string | undefined): void {
  let given = bearerToken(req.headers.authorization);
  if (given === undefined && query !== undefined) given = new URLSearchParams(query).get("_token") ?? undefined;
  const challenge = { "www-authenticate": "Bearer" };
  if (given === undefined) throw new HttpError(401, "Unauthorized: send the header 'Authorization: Bearer <token>'", challenge);
  if (given === null || !tokenMatches(given, ctx.token)) throw new HttpError(401, "Invalid token", challenge);
}

async function serveCommand(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, command: RedisCommand): Promise<void> {
  const placement = placeCommand(command, false);
  const ready = ctx.bridge.whenReady();
  if (ready !== undefined) await ready;
  ctx.stats.commands++;
  const reply = await ctx.bridge.run(command, placement);
  sendJson(res, 200, encodeResult(reply, wantsBase64(req)));
}

function encodeOutcomes(outcomes: readonly Outcome[], base64: boolean): string {
  let out = "[";
  for (let i = 0; i < outcomes.length; i++) {
    const outcome = outcomes[i] as Outcome;
    if (i > 0) out += ",";
    out += outcome.error !== undefined ? encodeError(outcome.error) : encodeResult(outcome.reply, base64);
  }
  return out + "]";
}

async function servePipeline(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const commands = parseCommandList(parseJsonBody(body));
  let placement: Placement = "shared";
  let sent = 0;
  const entries = commands.map((command): RedisCommand | Error => {
    try {
      if (placeCommand(command, false) === "dedicated") placement = "dedicated";
      sent++;
      return command;
    } catch (error) {
      if (error instanceof CommandRefusedError) return error;
      throw error;
    }
  });
  const ready = ctx.bridge.whenReady();
  if (ready !== undefined) await ready;
  ctx.stats.pipelines++;
  ctx.stats.commands += sent;
  const outcomes = await ctx.bridge.pipeline(entries, placement);
  sendJson(res, 200, encodeOutcomes(outcomes, wantsBase64(req)));
}

async function serveTransaction(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const commands = parseCommandList(parseJsonBody(body));
  for (let i = 0; i < commands.length; i++) {
    try {
      placeCommand(commands[i] as RedisCommand, true);
    } catch (error) {
      if (error instanceof CommandRefusedError) throw new CommandRefusedError(`Command ${i + 1}: ${error.message}`);
      throw error;
    }
  }
  const ready = ctx.bridge.whenReady();
  if (ready !== undefined) await ready;
  ctx.stats.transactions++;
  ctx.stats.commands += commands.length;
  const outcomes = await ctx.bridge.transaction(commands);
  sendJson(res, 200, encodeOutcomes(outcomes, wantsBase64(req)));
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `The path segment '${segment}' is not valid percent-encoding`);
  }
}

async function servePathForm(
  ctx: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: string | undefined,
): Promise<void> {
  const segments = path.slice(1).split("/");
  if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop();
  let name: string;
  try {
    name = decodeURIComponent(segments[0] as string);
  } catch {
    name = "";
  }
  if (!ctx.pathCommands.has(name.toLowerCase())) {
    throw new HttpError(404, `Not found: ${path}. POST a command to /, a list of commands to /pipeline or /multi-exec.`);
  }
  const method = req.method ?? "GET";
  if (method !== "GET" && method !== "POST") throw methodNotAllowed("GET, POST", method, path);
  authorize(ctx, req, query);
  const args: RedisArg[] = segments.slice(1).map(decodeSegment);
  if (method === "POST") {
    const body = await readBody(req, ctx.maxBodyBytes);
    if (body.length > 0) args.push(body);
  }
  await serveCommand(ctx, req, res, { name, args });
}

async function route(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? "/";
  const mark = url.indexOf("?");
  const path = mark === -1 ? url : url.slice(0, mark);
  const query = mark === -1 ? undefined : url.slice(mark + 1);
  const method = req.method ?? "GET";
  switch (path) {
    case "/":
      if (method === "POST") {
        authorize(ctx, req, query);
        const body = await readBody(req, ctx.maxBodyBytes);
        await serveCommand(ctx, req, res, parseCommand(parseJsonBody(body)));
      } else if (method === "GET" || method === "HEAD") {
        sendJson(res, 200, WELCOME);
      } else {
        throw methodNotAllowed("GET, POST", method, path);
      }
      return;
    case "/pipeline":
    case "/multi-exec": {
      if (method !== "POST") throw methodNotAllowed("POST", method, path);
      authorize(ctx, req, query);
      const body = await readBody(req, ctx.maxBodyBytes);
      if (path === "/pipeline") await servePipeline(ctx, req, res, body);
      else await serveTransaction(ctx, req, res, body);
      return;
    }
    case "/healthz":
      if (method === "GET" || method === "HEAD") {
        sendJson(res, 200, JSON.stringify({ status: "ok", redis: ctx.bridge.state }));
      } else {
        throw methodNotAllowed("GET", method, path);
      }
      return;
    default:
      await servePathForm(ctx, req, res, path, query);
  }
}

/** The `node:http` request listener of the Redis REST server. Never throws; every failure is an HTTP answer. */
export function createRequestHandler(ctx: HandlerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    ctx.stats.requests++;
    route(ctx, req, res).catch((error: unknown) => fail(req, res, error));
  };
}
