import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import {
  DeliveryEngine,
  DeliveryEngineClosedError,
  QSTASH_DEV_CURRENT_SIGNING_KEY,
  QSTASH_DEV_NEXT_SIGNING_KEY,
  QSTASH_DEV_PORT,
  QSTASH_DEV_TOKEN,
  QStashPublishError,
  validateDestination,
  type PublishInput,
  type PublishResult,
} from "next-cacheback/delivery";
import { DevServerOptionsError } from "./errors.js";
import { baseUrl, closeServer, listen } from "./ports.js";
import { parsePublishHeaders } from "./qstash-server/publish-headers.js";
import { consolePage, messageView } from "./qstash-server/views.js";

/** Options of {@link startQStashServer}. */
export interface QStashServerOptions {
  /**
   * The port to listen on; 0 picks a free one.
   * @default 8080
   */
  port?: number;
  /**
   * The interface to listen on. `@upstash/qstash` in dev mode health-checks `http://127.0.0.1:<port>`.
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * The bearer token every `/v2/*` request must carry.
   * @default QSTASH_DEV_TOKEN
   */
  token?: string;
  /**
   * The key deliveries are signed with (`QSTASH_CURRENT_SIGNING_KEY`).
   * @default QSTASH_DEV_CURRENT_SIGNING_KEY
   */
  currentSigningKey?: string;
  /**
   * The next signing key, reported by `GET /v2/keys` (`QSTASH_NEXT_SIGNING_KEY`).
   * @default QSTASH_DEV_NEXT_SIGNING_KEY
   */
  nextSigningKey?: string;
  /**
   * Multiplies every wait (delays, retry back-off, `Retry-After`); tests use ~0.001.
   * @default 1
   */
  retryDelayScale?: number;
  /**
   * How long a deduplication id is remembered, in seconds.
   * @default 600
   */
  dedupWindowSeconds?: number;
  /**
   * The largest message body accepted, in bytes; a larger publish answers 413. A `/v2/batch` request may be
   * up to 16 times this size, each message in it at most this size.
   * @default 1_048_576
   */
  maxBodyBytes?: number;
  /**
   * Receives one line per published, delivered, retried or dead-lettered message.
   * @default no logging
   */
  log?: (line: string) => void;
}

/** A running local QStash server. */
export interface QStashServer {
  /** Its base URL (`QSTASH_URL`), such as `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The bearer token it expects (`QSTASH_TOKEN`). */
  readonly token: string;
  /** The key deliveries are signed with (`QSTASH_CURRENT_SIGNING_KEY`). */
  readonly currentSigningKey: string;
  /** The next signing key (`QSTASH_NEXT_SIGNING_KEY`). */
  readonly nextSigningKey: string;
  /** The delivery engine behind it: its message log, dead letters and `idle()`. */
  readonly engine: DeliveryEngine;
  /** Stops listening and stops the engine (waiting messages are not delivered). */
  close(): Promise<void>;
}

const BATCH_SIZE_FACTOR = 16;

class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on("end", () => {
      if (tooLarge) {
        reject(new HttpError(413, `request body is ${size} bytes, over the limit of ${limit} bytes`));
      } else resolve(Buffer.concat(chunks));
    });
    req.on("error", reject);
  });
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function checkAuth(req: IncomingMessage, token: string): void {
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === "") {
    throw new HttpError(
      401,
      'Unauthorized: missing Authorization header. Send "Authorization: Bearer <QSTASH_TOKEN>" with the token this dev server prints.',
    );
  }
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match || !sameToken((match[1] as string).trim(), token)) {
    throw new HttpError(401, "Unauthorized: invalid token. Use the QSTASH_TOKEN this dev server prints at startup.");
  }
}

function rawHeaderPairs(req: IncomingMessage): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let index = 0; index + 1 < req.rawHeaders.length; index += 2) {
    pairs.push([req.rawHeaders[index] as string, req.rawHeaders[index + 1] as string]);
  }
  return pairs;
}

/** The destination of `/v2/publish/<destination>`: the raw path and query, decoded once only if it was sent encoded. */
function destinationFrom(rawPathAndQuery: string): string {
  if (rawPathAndQuery === "") {
    throw new HttpError(400, "missing destination: publish to /v2/publish/<absolute http(s) URL>");
  }
  if (!/^https?:\/\//i.test(rawPathAndQuery) && /^https?%3A/i.test(rawPathAndQuery)) {
    try {
      return decodeURIComponent(rawPathAndQuery);
    } catch {
      return rawPathAndQuery;
    }
  }
  return rawPathAndQuery;
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

function methodNotAllowed(allowed: string[]): HttpError {
  return new HttpError(405, `method not allowed: use ${allowed.join(" or ")}`, { Allow: allowed.join(", ") });
}

function requireMethod(req: IncomingMessage, allowed: string[]): void {
  if (!allowed.includes(req.method ?? "")) throw methodNotAllowed(allowed);
}

/**
 * Starts a local, offline QStash that `@upstash/qstash` publishes to unchanged (as `QSTASH_URL`, or through
 * its dev mode, `QSTASH_DEV=true`) and that delivers every message to its destination signed as QStash signs,
 * with QStash's retries and dead-letter queue. Routes: `POST /v2/publish/<destination>`, `POST /v2/batch`,
 * `GET /v2/keys`, `GET /v2/messages`, `GET|DELETE /v2/messages/<id>`, `GET /v2/dlq`, `GET|DELETE /v2/dlq/<id>`,
 * and `GET /`, a page listing recent messages.
 * @throws {PortInUseError} when the port is taken.
 */
export async function startQStashServer(options: QStashServerOptions = {}): Promise<QStashServer> {
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? QSTASH_DEV_TOKEN;
  const currentSigningKey = options.currentSigningKey ?? QSTASH_DEV_CURRENT_SIGNING_KEY;
  const nextSigningKey = options.nextSigningKey ?? QSTASH_DEV_NEXT_SIGNING_KEY;
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  const log = options.log ?? (() => {});
  if (!token) throw new DevServerOptionsError("The QStash dev server needs a non-empty token.");
  if (!currentSigningKey || !nextSigningKey) {
    throw new DevServerOptionsError("The QStash dev server needs non-empty current and next signing keys.");
  }
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new DevServerOptionsError(`maxBodyBytes must be a whole number of bytes > 0, got ${String(options.maxBodyBytes)}.`);
  }
  const engine = new DeliveryEngine({
    signingKey: currentSigningKey,
    retryDelayScale: options.retryDelayScale ?? 1,
    dedupWindowMs: (options.dedupWindowSeconds ?? 600) * 1000,
    log,
  });

  let selfUrl = "";

  const publishOne = async (
    destination: string,
    headers: Iterable<readonly [string, string]>,
    body: string | Uint8Array,
    callerIp: string | undefined,
  ): Promise<PublishResult> => {
    const { unsupported, ...parsed } = parsePublishHeaders(headers);
    const input: PublishInput = { ...parsed, destination, body, ...(callerIp ? { callerIp } : {}) };
    const result = await engine.publish(input);
    if (!result.deduplicated) {
      const delay = input.notBefore !== undefined ? `, not before ${input.notBefore}` : input.delaySeconds ? `, delay ${input.delaySeconds}s` : "";
      log(`[qstash] ${result.messageId} queued: ${input.method ?? "POST"} ${destination}${delay}`);
      if (unsupported.length > 0) {
        log(`[qstash] ${result.messageId}: ignoring ${unsupported.join(", ")} (not supported by the local QStash)`);
      }
    }
    return result;
  };

  const publishAnswer = (result: PublishResult) =>
    result.deduplicated
      ? { messageId: result.messageId, url: result.url, deduplicated: true }
      : { messageId: result.messageId, url: result.url };

  const handlePublish = async (req: IncomingMessage, res: ServerResponse, destination: string): Promise<void> => {
    const body = await readBody(req, maxBodyBytes);
    validateDestination(destination);
    const result = await publishOne(destination, rawHeaderPairs(req), body, req.socket.remoteAddress);
    sendJson(res, result.deduplicated ? 202 : 201, publishAnswer(result));
  };

  const handleBatch = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req, maxBodyBytes * BATCH_SIZE_FACTOR);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8"));
    } catch (error) {
      throw new HttpError(400, `malformed JSON in batch body: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed)) {
      throw new HttpError(400, "batch body must be a JSON array of {destination, headers, body} objects");
    }
    const items = parsed.map((item: unknown, index) => {
      if (typeof item !== "object" || item === null || Array.isArray(item)) {
        throw new HttpError(400, `batch[${index}] must be an object {destination, headers, body}`);
      }
      const { destination, headers, body } = item as Record<string, unknown>;
      if (typeof destination !== "string" || destination === "") {
        throw new HttpError(400, `batch[${index}].destination must be an absolute http(s) URL string`);
      }
      if (headers !== undefined && (typeof headers !== "object" || headers === null || Array.isArray(headers))) {
        throw new HttpError(400, `batch[${index}].headers must be an object of header names to values`);
      }
      const pairs = Object.entries((headers ?? {}) as Record<string, unknown>).map(
        ([name, value]) => [name, String(value)] as const,
      );
      const text = body === undefined || body === null ? "" : typeof body === "string" ? body : JSON.stringify(body);
      if (Buffer.byteLength(text) > maxBodyBytes) {
        throw new HttpError(413, `batch[${index}].body is over the limit of ${maxBodyBytes} bytes`);
      }
      try {
        validateDestination(destination);
        parsePublishHeaders(pairs);
      } catch (error) {
        if (error instanceof QStashPublishError) throw new HttpError(error.status, `batch[${index}]: ${error.message}`);
        throw error;
      }
      return { destination, pairs, text };
    });
    const results = [];
    for (const item of items) {
      results.push(publishAnswer(await publishOne(item.destination, item.pairs, item.text, req.socket.remoteAddress)));
    }
    sendJson(res, 201, results);
  };

  const handleV2 = async (req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> => {
    checkAuth(req, token);
    const method = req.method ?? "GET";
    if (path.startsWith("/v2/publish/")) {
      requireMethod(req, ["POST"]);
      await handlePublish(req, res, destinationFrom(path.slice("/v2/publish/".length) + query));
      return;
    }
    if (path === "/v2/publish") {
      requireMethod(req, ["POST"]);
      throw new HttpError(400, "missing destination: publish to /v2/publish/<absolute http(s) URL>");
    }
    if (path === "/v2/batch") {
      requireMethod(req, ["POST"]);
      await handleBatch(req, res);
      return;
    }
    if (path === "/v2/keys") {
      requireMethod(req, ["GET"]);
      sendJson(res, 200, { current: currentSigningKey, next: nextSigningKey });
      return;
    }
    if (path === "/v2/messages") {
      requireMethod(req, ["GET"]);
      sendJson(res, 200, { messages: engine.messages().map(messageView) });
      return;
    }
    if (path === "/v2/dlq") {
      requireMethod(req, ["GET"]);
      sendJson(res, 200, { messages: engine.deadLetters().map(messageView) });
      return;
    }
    const messageMatch = /^\/v2\/messages\/([^/]+)$/.exec(path);
    if (messageMatch) {
      requireMethod(req, ["GET", "DELETE"]);
      const id = decodeId(messageMatch[1] as string);
      const record = engine.message(id);
      if (!record) throw new HttpError(404, `message ${id} not found (it may have been dropped from the log)`);
      if (method === "GET") {
        sendJson(res, 200, messageView(record));
      } else if (engine.cancel(id)) {
        sendJson(res, 200, { cancelled: 1 });
      } else {
        throw new HttpError(400, `message ${id} is already ${record.state}: only waiting messages can be cancelled`);
      }
      return;
    }
    const dlqMatch = /^\/v2\/dlq\/([^/]+)$/.exec(path);
    if (dlqMatch) {
      requireMethod(req, ["GET", "DELETE"]);
      const id = decodeId(dlqMatch[1] as string);
      const record = engine.deadLetters().find((letter) => letter.dlqId === id || letter.messageId === id);
      if (!record) throw new HttpError(404, `dead letter ${id} not found`);
      if (method === "GET") sendJson(res, 200, messageView(record));
      else {
        engine.deleteDeadLetter(id);
        sendJson(res, 200, { deleted: 1 });
      }
      return;
    }
    throw new HttpError(404, `not found: ${method} ${path} is not an endpoint of the local QStash`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = requestTarget(req.url);
    const queryAt = raw.indexOf("?");
    const path = queryAt === -1 ? raw : raw.slice(0, queryAt);
    const query = queryAt === -1 ? "" : raw.slice(queryAt);
    if (path === "/" || path === "/index.html") {
      requireMethod(req, ["GET", "HEAD"]);
      const page = consolePage({ url: selfUrl, messages: engine.messages(), deadLetters: engine.deadLetters() });
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(page) });
      res.end(req.method === "HEAD" ? undefined : page);
      return;
    }
    if (path.startsWith("/v2/") || path === "/v2") {
      await handleV2(req, res, path, query);
      return;
    }
    throw new HttpError(404, `not found: ${path} is not an endpoint of the local QStash`);
  };

  const server = createServer((req, res) => {
    res.on("error", () => {});
    handle(req, res).catch((error: unknown) => {
      let status = 500;
      let message = error instanceof Error ? error.message : String(error);
      let headers: Record<string, string> = {};
      if (error instanceof HttpError) {
        status = error.status;
        headers = error.headers;
      } else if (error instanceof QStashPublishError) {
        status = error.status;
      } else if (error instanceof DeliveryEngineClosedError) {
        status = 503;
      } else {
        message = `internal error in the local QStash: ${message}`;
        log(`[qstash] ${message}`);
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (!req.complete) {
        headers = { ...headers, Connection: "close" };
        req.resume();
      }
      sendJson(res, status, { error: message }, headers);
    });
  });
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  const port = await listen(server, options.port ?? QSTASH_DEV_PORT, host).catch(async (error: unknown) => {
    await engine.close();
    throw error;
  });
  selfUrl = baseUrl(host, port);
  let closing: Promise<void> | undefined;

  return {
    url: selfUrl,
    port,
    token,
    currentSigningKey,
    nextSigningKey,
    engine,
    close() {
      closing ??= Promise.all([engine.close(), closeServer(server)]).then(() => undefined);
      return closing;
    },
  };
}
