/** What a publish asks for, and the checks that turn it into the settings of one message. */
import { QStashPublishError } from "./errors.js";

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

/** A publish's settings, checked, with the engine's defaults filled in. */
export interface CheckedPublish {
  url: string;
  method: string;
  retries: number;
  timeoutSeconds: number;
  headers: Record<string, string>;
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

/** One line for a failure: the error's message, with the code and message of its cause (fetch's `cause`). */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${error.message}: ${typeof code === "string" ? `${code} ` : ""}${cause.message}`.trim();
  }
  return error.message;
}

/**
 * Checks a publish (destination, method, retries, timeout, delay, headers) and fills in the defaults.
 * @throws {QStashPublishError} (400) for anything QStash would refuse.
 */
export function checkPublish(input: PublishInput, defaults: { retries: number; timeoutSeconds: number }): CheckedPublish {
  const url = validateDestination(input.destination);
  const method = (input.method ?? "POST").toUpperCase();
  if (!QSTASH_METHODS.includes(method)) {
    throw new QStashPublishError(`invalid method "${input.method}": use one of ${QSTASH_METHODS.join(", ")}`);
  }
  const retries = input.retries ?? defaults.retries;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new QStashPublishError(`invalid retries "${String(input.retries)}": use a whole number >= 0`);
  }
  const timeoutSeconds = input.timeoutSeconds ?? defaults.timeoutSeconds;
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
    throw new QStashPublishError(`invalid header in message: ${describeFailure(error)}`);
  }
  return { url, method, retries, timeoutSeconds, headers };
}

/** How long to wait before the first delivery, in ms (unscaled): until `notBefore`, else `delaySeconds`. */
export function firstDelayMs(input: PublishInput, nowMs: number): number {
  return input.notBefore !== undefined
    ? Math.max(0, input.notBefore * 1000 - nowMs)
    : Math.max(0, (input.delaySeconds ?? 0) * 1000);
}
