/** One delivery of a message: the signed HTTP request, its answer, and what the record keeps of it. */
import type { LogEntry } from "./message-log.js";
import type { DeliveryAttempt, MessageRecord } from "./message-record.js";
import { describeFailure } from "./publish-input.js";
import { signQStashMessage } from "./signing.js";

/** How much of the last response body the record keeps, in characters. */
const RESPONSE_BODY_LIMIT = 4096;
/** How much of each delivery's response body its attempt keeps, in characters. */
const ATTEMPT_BODY_LIMIT = 1024;

/** What a delivery got back: an HTTP answer, or why there was none. */
export interface AttemptOutcome {
  status?: number;
  headers?: Headers;
  body?: string;
  error?: string;
}

/** What a delivery needs from the engine. */
export interface AttemptContext {
  signingKey: string;
  fetch: typeof fetch;
  now: () => number;
}

/** Lets a timer not keep the process alive, where timers can be unreferenced (Node). */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

async function readStart(response: Response): Promise<string> {
  const text = await response.text();
  return text.length > RESPONSE_BODY_LIMIT ? text.slice(0, RESPONSE_BODY_LIMIT) : text;
}

/**
 * Delivers the message once: signs it afresh, sends it with QStash's headers, waits at most the message's
 * timeout (or until `entry.controller` is aborted), and records the delivery on the record: a new attempt,
 * and the last response's status, headers and body start. Never rejects for a failed delivery.
 */
export async function deliverOnce(entry: LogEntry, ctx: AttemptContext): Promise<{ attempt: DeliveryAttempt; outcome: AttemptOutcome }> {
  const record = entry.record;
  const retried = record.attempts.length;
  const controller = new AbortController();
  entry.controller = controller;
  let timedOut = false;
  const timeout = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, record.timeoutSeconds * 1000);
  unrefTimer(timeout);

  const started = ctx.now();
  const outcome: AttemptOutcome = {};
  try {
    const sendsBody = record.method !== "GET";
    const body = sendsBody ? entry.bytes : new Uint8Array(0);
    const headers = new Headers(record.headers);
    headers.set("Upstash-Signature", await signQStashMessage({
      signingKey: ctx.signingKey,
      url: record.url,
      body,
      nowSeconds: Math.floor(started / 1000),
    }));
    headers.set("Upstash-Message-Id", record.messageId);
    headers.set("Upstash-Retried", String(retried));
    headers.set("User-Agent", "Upstash-QStash");
    if (record.callerIp) headers.set("Upstash-Caller-Ip", record.callerIp);
    const response = await ctx.fetch(record.url, {
      method: record.method,
      headers,
      ...(sendsBody ? { body } : {}),
      signal: controller.signal,
    });
    outcome.status = response.status;
    outcome.headers = response.headers;
    outcome.body = await readStart(response);
  } catch (error) {
    if (outcome.status === undefined) {
      outcome.error = timedOut ? `timed out after ${record.timeoutSeconds}s` : describeFailure(error);
    }
  } finally {
    clearTimeout(timeout);
    entry.controller = undefined;
  }

  const attempt: DeliveryAttempt = { retried, at: started, durationMs: Math.max(0, ctx.now() - started) };
  if (outcome.status !== undefined) attempt.status = outcome.status;
  if (outcome.error !== undefined) attempt.error = outcome.error;
  if (outcome.body !== undefined && outcome.body !== "") attempt.body = outcome.body.slice(0, ATTEMPT_BODY_LIMIT);
  record.attempts.push(attempt);
  recordResponse(record, outcome);
  return { attempt, outcome };
}

/** Keeps the last answer on the record (or clears it when the delivery got none). */
function recordResponse(record: MessageRecord, outcome: AttemptOutcome): void {
  if (outcome.status !== undefined) {
    record.responseStatus = outcome.status;
    const responseHeader: Record<string, string[]> = {};
    outcome.headers?.forEach((value, name) => {
      (responseHeader[name] ??= []).push(value);
    });
    record.responseHeader = responseHeader;
    record.responseBody = outcome.body ?? "";
  } else {
    delete record.responseStatus;
    delete record.responseHeader;
    delete record.responseBody;
  }
}
