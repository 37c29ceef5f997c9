/** `POST /v2/publish/<destination>` and `POST /v2/batch`: requests in, messages handed to the delivery engine. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { QStashPublishError, validateDestination, type PublishInput, type PublishResult } from "next-cacheback/delivery";
import { describeError, HttpError } from "../errors.js";
import { readBody, sendJson } from "../http.js";
import type { QStashContext } from "./handler.js";
import { parsePublishHeaders } from "./publish-headers.js";

/** A `/v2/batch` request may be this many times `maxBodyBytes`; each message in it at most `maxBodyBytes`. */
const BATCH_SIZE_FACTOR = 16;

function rawHeaderPairs(req: IncomingMessage): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let index = 0; index + 1 < req.rawHeaders.length; index += 2) {
    pairs.push([req.rawHeaders[index] as string, req.rawHeaders[index + 1] as string]);
  }
  return pairs;
}

/** The destination of `/v2/publish/<destination>`: the raw path and query, decoded once only if it was sent encoded. */
export function destinationFrom(rawPathAndQuery: string): string {
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

async function publishOne(
  ctx: QStashContext,
  destination: string,
  headers: Iterable<readonly [string, string]>,
  body: string | Uint8Array,
  callerIp: string | undefined,
): Promise<PublishResult> {
  const { unsupported, ...parsed } = parsePublishHeaders(headers);
  const input: PublishInput = { ...parsed, destination, body, ...(callerIp ? { callerIp } : {}) };
  const result = await ctx.engine.publish(input);
  if (!result.deduplicated) {
    const delay = input.notBefore !== undefined ? `, not before ${input.notBefore}` : input.delaySeconds ? `, delay ${input.delaySeconds}s` : "";
    ctx.log(`[qstash] ${result.messageId} queued: ${input.method ?? "POST"} ${destination}${delay}`);
    if (unsupported.length > 0) {
      ctx.log(`[qstash] ${result.messageId}: ignoring ${unsupported.join(", ")} (not supported by the local QStash)`);
    }
  }
  return result;
}

function publishAnswer(result: PublishResult): { messageId: string; url: string; deduplicated?: true } {
  return result.deduplicated
    ? { messageId: result.messageId, url: result.url, deduplicated: true }
    : { messageId: result.messageId, url: result.url };
}

/** `POST /v2/publish/<destination>`: 201 with the message id, or 202 for a duplicate within the dedup window. */
export async function handlePublish(ctx: QStashContext, req: IncomingMessage, res: ServerResponse, destination: string): Promise<void> {
  const body = await readBody(req, ctx.maxBodyBytes);
  validateDestination(destination);
  const result = await publishOne(ctx, destination, rawHeaderPairs(req), body, req.socket.remoteAddress);
  sendJson(res, result.deduplicated ? 202 : 201, JSON.stringify(publishAnswer(result)));
}

/**
 * `POST /v2/batch`: a JSON array of `{destination, headers, body}`. Every item is checked before any is
 * published, so a malformed batch publishes nothing.
 */
export async function handleBatch(ctx: QStashContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req, ctx.maxBodyBytes * BATCH_SIZE_FACTOR);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch (error) {
    throw new HttpError(400, `malformed JSON in batch body: ${describeError(error)}`);
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
    const pairs = Object.entries((headers ?? {}) as Record<string, unknown>).map(([name, value]) => [name, String(value)] as const);
    const text = body === undefined || body === null ? "" : typeof body === "string" ? body : JSON.stringify(body);
    if (Buffer.byteLength(text) > ctx.maxBodyBytes) {
      throw new HttpError(413, `batch[${index}].body is over the limit of ${ctx.maxBodyBytes} bytes`);
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
    results.push(publishAnswer(await publishOne(ctx, item.destination, item.pairs, item.text, req.socket.remoteAddress)));
  }
  sendJson(res, 201, JSON.stringify(results));
}
