import { bytesToBase64, bytesToHex, bytesToUtf8, randomId, sha256, toBytes } from "./encoding.js";
import { DeliveryEngineClosedError, QStashPublishError } from "./errors.js";
import type { DeliveryAttempt, MessageRecord, MessageState } from "./message-record.js";
import { nextRetryDelayMs } from "./retry.js";
import { signQStashMessage } from "./signing.js";

export type { DeliveryAttempt, MessageRecord, MessageState } from "./message-record.js";

/** Options of a {@link DeliveryEngine}. */
export interface DeliveryEngineOptions {
  /** The current signing key; every delivery is signed with it. */
  signingKey: string;
  /**
   * Multiplies every wait: `delay`, `notBefore`, the retry back-off and `Retry-After`. Tests use ~0.001.
   * @default 1
   */
  retryDelayScale?: number;
  /**
   * Retries of a message published without `retries` (deliveries = 1 + retries).
   * @default 3
   */
  defaultRetries?: number;
  /**
   * How long one delivery of a message published without `timeoutSeconds` may take, in seconds.
   * @default 900
   */
  defaultTimeoutSeconds?: number;
  /**
   * How long a deduplication id (explicit or content-based) is remembered, in milliseconds.
   * @default 600_000
   */
  dedupWindowMs?: number;
  /**
   * The fetch that delivers messages.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * The clock, unix milliseconds. It stamps records, signatures and dedup windows; waits use real timers.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Receives one line per notable event (delivered, retry scheduled, dead-lettered).
   * @default no logging
   */
  log?: (line: string) => void;
  /**
   * The most messages kept in the log. Past it, the oldest finished messages are dropped: delivered and
   * cancelled ones first, then dead letters; messages still waiting are never dropped.
   * @default 10_000
   */
  maxLogSize?: number;
}

/** A message to deliver. */
export interface PublishInput {
  /** The absolute http(s) URL to deliver to; kept exactly as given (it is the signature's `sub`). */
  destination: string;
  /**
   * The HTTP method of each delivery: GET, POST, PUT, PATCH or DELETE.
   * @default "POST"
   */
  method?: string;
  /** The body, delivered unchanged. */
  body: string | Uint8Array;
  /**
   * Headers delivered as they are (the content type and the forwarded headers, already unprefixed).
   * @default {}
   */
  headers?: Record<string, string>;
  /**
   * Seconds to wait before the first delivery.
   * @default 0
   */
  delaySeconds?: number;
  /** Unix seconds before which the message is not delivered; overrides `delaySeconds`. */
  notBefore?: number;
  /**
   * Retries after a failed delivery.
   * @default the engine's `defaultRetries` (3)
   */
  retries?: number;
  /**
   * How long one delivery may take before it counts as failed, in seconds.
   * @default the engine's `defaultTimeoutSeconds` (900)
   */
  timeoutSeconds?: number;
  /** A message published again with the same id within the dedup window is not delivered again. */
  deduplicationId?: string;
  /**
   * Derive the deduplication id from the destination, the body, the content type and the forwarded headers.
   * @default false
   */
  contentBasedDeduplication?: boolean;
  /** The publisher's IP address, delivered as `Upstash-Caller-Ip`. */
  callerIp?: string;
}

/** What {@link DeliveryEngine.publish} answers, as QStash's publish endpoint does. */
export interface PublishResult {
  /** The message id; for a duplicate, the id of the original message. */
  messageId: string;
  /** The destination URL as published. */
  url: string;
  /** True when the message was a duplicate within the dedup window and nothing new was queued. */
  deduplicated: boolean;
}

/** The HTTP methods QStash delivers with. */
export const QSTASH_METHODS: readonly string[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

const TERMINAL: ReadonlySet<MessageState> = new Set<MessageState>(["DELIVERED", "FAILED", "CANCELLED"]);
const RESPONSE_BODY_LIMIT = 4096;

interface Entry {
  record: MessageRecord;
  bytes: Uint8Array<ArrayBuffer>;
  timer?: ReturnType<typeof setTimeout>;
  controller?: AbortController;
}

interface AttemptOutcome {
  status?: number;
  headers?: Headers;
  body?: string;
  error?: string;
}

/**
 * Checks that a destination is an absolute http(s) URL and returns it unchanged.
 * @throws {QStashPublishError} (400) otherwise.
 */
export function validateDestination(destination: string): string {
  let url: URL;
  try {
    url = new URL(destination);
  } catch {
    throw new QStashPublishError(
      `invalid destination url "${destination}": publish to an absolute URL such as http://localhost:3000/api/cacheback (URL groups and queues are not supported locally)`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new QStashPublishError(
      `invalid destination url "${destination}": only http:// and https:// destinations can be delivered to`,
    );
  }
  return destination;
}

function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${error.message}: ${typeof code === "string" ? `${code} ` : ""}${cause.message}`.trim();
  }
  return error.message;
}

function copyRecord(record: MessageRecord): MessageRecord {
  return {
    ...record,
    headers: { ...record.headers },
    attempts: record.attempts.map((attempt) => ({ ...attempt })),
    ...(record.responseHeader
      ? {
          responseHeader: Object.fromEntries(
            Object.entries(record.responseHeader).map(([name, values]) => [name, [...values]]),
          ),
        }
      : {}),
  };
}

async function readStart(response: Response): Promise<string> {
  const text = await response.text();
  return text.length > RESPONSE_BODY_LIMIT ? text.slice(0, RESPONSE_BODY_LIMIT) : text;
}

/**
 * A local QStash: it takes published messages, delivers each one to its destination signed exactly as
 * QStash signs, retries failed deliveries on QStash's schedule, and keeps a message log and a dead-letter
 * queue in memory. Edge-safe (fetch, Web Crypto, timers); timers never keep a process alive, and no error
 * escapes as an unhandled rejection.
 */
export class DeliveryEngine {
  readonly #signingKey: string;
  readonly #scale: number;
  readonly #defaultRetries: number;
  readonly #defaultTimeoutSeconds: number;
  readonly #dedupWindowMs: number;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #maxLogSize: number;

  readonly #entries = new Map<string, Entry>();
  readonly #dedup = new Map<string, { messageId: string; expiresAt: number }>();
  readonly #inFlight = new Set<Promise<void>>();
  #idleWaiters: Array<() => void> = [];
  #pending = 0;
  #dlqCounter = 0;
  #closed = false;

  constructor(options: DeliveryEngineOptions) {
    if (!options.signingKey) {
      throw new TypeError("DeliveryEngine needs a signingKey: pass the current QStash signing key (sig_...).");
    }
    this.#signingKey = options.signingKey;
    this.#scale = options.retryDelayScale ?? 1;
    this.#defaultRetries = options.defaultRetries ?? 3;
    this.#defaultTimeoutSeconds = options.defaultTimeoutSeconds ?? 900;
    this.#dedupWindowMs = options.dedupWindowMs ?? 600_000;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => {});
    this.#maxLogSize = Math.max(1, options.maxLogSize ?? 10_000);
    if (!(this.#scale >= 0) || !Number.isFinite(this.#scale)) {
      throw new TypeError(`retryDelayScale must be a finite number >= 0, got ${String(options.retryDelayScale)}.`);
    }
  }

  /**
   * Queues a message. A duplicate (same `deduplicationId`, or same content with `contentBasedDeduplication`)
   * within the dedup window answers the original `messageId` with `deduplicated: true` and queues nothing.
   * @throws {QStashPublishError} when the destination, method, retries, delay or headers are invalid.
   * @throws {DeliveryEngineClosedError} after {@link DeliveryEngine.close}.
   */
  async publish(input: PublishInput): Promise<PublishResult> {
    if (this.#closed) throw new DeliveryEngineClosedError();
    const url = validateDestination(input.destination);
    const method = (input.method ?? "POST").toUpperCase();
    if (!QSTASH_METHODS.includes(method)) {
      throw new QStashPublishError(`invalid method "${input.method}": use one of ${QSTASH_METHODS.join(", ")}`);
    }
    const retries = input.retries ?? this.#defaultRetries;
    if (!Number.isInteger(retries) || retries < 0) {
      throw new QStashPublishError(`invalid retries "${String(input.retries)}": use a whole number >= 0`);
    }
    const timeoutSeconds = input.timeoutSeconds ?? this.#defaultTimeoutSeconds;
    if (!(timeoutSeconds > 0) || !Number.isFinite(timeoutSeconds)) {
      throw new QStashPublishError(`invalid timeout "${String(input.timeoutSeconds)}": use a number of seconds > 0`);
    }
    if (input.delaySeconds !== undefined && !(input.delaySeconds >= 0)) {
      throw new QStashPublishError(`invalid delay "${String(input.delaySeconds)}": use a number of seconds >= 0`);
    }
    if (input.notBefore !== undefined && !Number.isFinite(input.notBefore)) {
      throw new QStashPublishError(`invalid notBefore "${String(input.notBefore)}": use unix seconds`);
    }
    const headers: Record<string, string> = {};
    try {
      new Headers(input.headers ?? {});
      Object.assign(headers, input.headers ?? {});
    } catch (error) {
      throw new QStashPublishError(`invalid header in message: ${describeError(error)}`);
    }
    const bytes = toBytes(input.body);
    const dedupKey = input.deduplicationId
      ? `id:${input.deduplicationId}`
      : input.contentBasedDeduplication
        ? `content:${await this.#contentHash(url, headers, bytes)}`
        : undefined;
    if (this.#closed) throw new DeliveryEngineClosedError();

    const now = this.#now();
    if (dedupKey !== undefined) {
      this.#pruneDedup(now);
      const existing = this.#dedup.get(dedupKey);
      if (existing) {
        this.#log(`[qstash] ${existing.messageId} deduplicated: ${url} was published again within the window`);
        return { messageId: existing.messageId, url, deduplicated: true };
      }
    }

    const delayMs =
      input.notBefore !== undefined
        ? Math.max(0, input.notBefore * 1000 - now)
        : Math.max(0, (input.delaySeconds ?? 0) * 1000);
    const text = bytesToUtf8(bytes);
    const record: MessageRecord = {
      messageId: randomId("msg_"),
      url,
      method,
      headers,
      ...(text === undefined ? { bodyBase64: bytesToBase64(bytes) } : { body: text }),
      createdAt: now,
      notBefore: now + delayMs,
      maxRetries: retries,
      timeoutSeconds,
      ...(input.deduplicationId ? { deduplicationId: input.deduplicationId } : {}),
      ...(input.callerIp ? { callerIp: input.callerIp } : {}),
      state: "CREATED",
      attempts: [],
    };
    const entry: Entry = { record, bytes };
    this.#entries.set(record.messageId, entry);
    this.#pending += 1;
    if (dedupKey !== undefined) {
      this.#dedup.set(dedupKey, { messageId: record.messageId, expiresAt: now + this.#dedupWindowMs });
    }
    this.#schedule(entry, delayMs * this.#scale);
    this.#trimLog();
    return { messageId: record.messageId, url, deduplicated: false };
  }

  /** Every message in the log, newest first, with its state and deliveries (snapshots). */
  messages(): MessageRecord[] {
    return [...this.#entries.values()].reverse().map((entry) => copyRecord(entry.record));
  }

  /** The dead-letter queue: messages whose retries are spent or that failed non-retryably, newest first. */
  deadLetters(): MessageRecord[] {
    return [...this.#entries.values()]
      .filter((entry) => entry.record.dlqId !== undefined)
      .reverse()
      .map((entry) => copyRecord(entry.record));
  }

  /** One message by id (a snapshot), or `undefined` when it is unknown or was dropped from the log. */
  message(id: string): MessageRecord | undefined {
    const entry = this.#entries.get(id);
    return entry ? copyRecord(entry.record) : undefined;
  }

  /**
   * Cancels a message that is not finished: no further delivery starts, and one in flight is aborted.
   * @returns `true` when it was cancelled, `false` when it is unknown or already finished.
   */
  cancel(id: string): boolean {
    const entry = this.#entries.get(id);
    if (!entry || TERMINAL.has(entry.record.state)) return false;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.controller?.abort();
    this.#finish(entry, "CANCELLED");
    this.#log(`[qstash] ${id} cancelled`);
    return true;
  }

  /**
   * Removes a message from the dead-letter queue (and from the log).
   * @returns `true` when a dead letter with that id (`dlqId` or `messageId`) was removed.
   */
  deleteDeadLetter(id: string): boolean {
    for (const [messageId, entry] of this.#entries) {
      if (entry.record.dlqId !== undefined && (entry.record.dlqId === id || messageId === id)) {
        this.#entries.delete(messageId);
        return true;
      }
    }
    return false;
  }

  /** Resolves once no message is waiting or in flight (immediately after {@link DeliveryEngine.close}). */
  idle(): Promise<void> {
    if (this.#pending === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops the engine: timers are cancelled and deliveries in flight are aborted. Waiting messages stay unsent. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const entry of this.#entries.values()) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.timer = undefined;
      entry.controller?.abort();
    }
    await Promise.allSettled([...this.#inFlight]);
    this.#wakeIdle();
  }

  async #contentHash(url: string, headers: Record<string, string>, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
    const headerLines = Object.entries(headers)
      .map(([name, value]) => `${name.toLowerCase()}:${value}`)
      .sort()
      .join("\n");
    const prefix = new TextEncoder().encode(`${url}\n${headerLines}\n\n`);
    const all = new Uint8Array(prefix.length + bytes.length);
    all.set(prefix, 0);
    all.set(bytes, prefix.length);
    return bytesToHex(await sha256(all));
  }

  #pruneDedup(now: number): void {
    for (const [key, value] of this.#dedup) {
      if (value.expiresAt <= now) this.#dedup.delete(key);
    }
  }

  #schedule(entry: Entry, waitMs: number): void {
    entry.record.nextDeliveryAt = this.#now() + waitMs;
    const timer = setTimeout(() => {
      entry.timer = undefined;
      const run = this.#attempt(entry)
        .catch((error: unknown) => {
          this.#log(`[qstash] ${entry.record.messageId} internal error: ${describeError(error)}`);
          if (!TERMINAL.has(entry.record.state)) this.#deadLetter(entry);
        })
        .finally(() => this.#inFlight.delete(run));
      this.#inFlight.add(run);
    }, waitMs);
    unrefTimer(timer);
    entry.timer = timer;
  }

  async #attempt(entry: Entry): Promise<void> {
    const record = entry.record;
    if (this.#closed || TERMINAL.has(record.state)) return;
    const retried = record.attempts.length;
    record.state = "ACTIVE";
    delete record.nextDeliveryAt;

    const controller = new AbortController();
    entry.controller = controller;
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, record.timeoutSeconds * 1000);
    unrefTimer(timeout);

    const started = this.#now();
    const outcome: AttemptOutcome = {};
    try {
      const sendsBody = record.method !== "GET";
      const body = sendsBody ? entry.bytes : new Uint8Array(0);
      const headers = new Headers(record.headers);
      headers.set("Upstash-Signature", await signQStashMessage({
        signingKey: this.#signingKey,
        url: record.url,
        body,
        nowSeconds: Math.floor(started / 1000),
      }));
      headers.set("Upstash-Message-Id", record.messageId);
      headers.set("Upstash-Retried", String(retried));
      headers.set("User-Agent", "Upstash-QStash");
      if (record.callerIp) headers.set("Upstash-Caller-Ip", record.callerIp);
      const response = await this.#fetch(record.url, {
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
        outcome.error = timedOut ? `timed out after ${record.timeoutSeconds}s` : describeError(error);
      }
    } finally {
      clearTimeout(timeout);
      entry.controller = undefined;
    }

    const attempt: DeliveryAttempt = { retried, at: started, durationMs: Math.max(0, this.#now() - started) };
    if (outcome.status !== undefined) attempt.status = outcome.status;
    if (outcome.error !== undefined) attempt.error = outcome.error;
    record.attempts.push(attempt);
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
    if ((record.state as MessageState) === "CANCELLED") return;
    if (this.#closed) {
      record.state = retried === 0 ? "CREATED" : "RETRY";
      return;
    }

    const status = outcome.status;
    const what = status !== undefined ? `HTTP ${status}` : (outcome.error ?? "failed");
    if (status !== undefined && status >= 200 && status < 300) {
      this.#finish(entry, "DELIVERED");
      this.#log(`[qstash] ${record.messageId} delivered to ${record.url} (${what}, ${attempt.durationMs} ms)`);
      return;
    }
    if (status === 489 && outcome.headers?.get("Upstash-NonRetryable-Error")?.trim().toLowerCase() === "true") {
      this.#log(`[qstash] ${record.messageId} non-retryable error from ${record.url} (${what}): dead-lettered`);
      this.#deadLetter(entry);
      return;
    }
    if (retried < record.maxRetries) {
      const waitMs = nextRetryDelayMs(retried + 1, {
        scale: this.#scale,
        retryAfter: outcome.headers?.get("Retry-After") ?? null,
        nowMs: this.#now(),
      });
      record.state = "RETRY";
      this.#schedule(entry, waitMs);
      this.#log(
        `[qstash] ${record.messageId} delivery ${retried + 1} to ${record.url} failed (${what}); retry in ${Math.round(waitMs)} ms`,
      );
      return;
    }
    this.#log(
      `[qstash] ${record.messageId} delivery ${retried + 1} to ${record.url} failed (${what}); retries spent: dead-lettered`,
    );
    this.#deadLetter(entry);
  }

  #deadLetter(entry: Entry): void {
    this.#dlqCounter += 1;
    entry.record.dlqId = `${this.#now()}-${this.#dlqCounter}`;
    this.#finish(entry, "FAILED");
  }

  #finish(entry: Entry, state: MessageState): void {
    const wasPending = !TERMINAL.has(entry.record.state);
    entry.record.state = state;
    delete entry.record.nextDeliveryAt;
    if (wasPending) {
      this.#pending -= 1;
      if (this.#pending === 0) this.#wakeIdle();
    }
    this.#trimLog();
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  #trimLog(): void {
    if (this.#entries.size <= this.#maxLogSize) return;
    for (const pass of [["DELIVERED", "CANCELLED"], ["FAILED"]] as const) {
      for (const [id, entry] of this.#entries) {
        if (this.#entries.size <= this.#maxLogSize) return;
        if ((pass as readonly MessageState[]).includes(entry.record.state)) this.#entries.delete(id);
      }
    }
  }
}
