/** The shape of a message in the local QStash engine's log, as its readers see it. */

/**
 * Where a message is, with the real service's vocabulary: `CREATED` (waiting for its first delivery),
 * `ACTIVE` (a delivery in flight), `RETRY` (a delivery failed, the next one is scheduled), `DELIVERED`,
 * `FAILED` (retries spent or a non-retryable error: it is in the dead-letter queue), `CANCELLED`.
 */
export type MessageState = "CREATED" | "ACTIVE" | "RETRY" | "DELIVERED" | "FAILED" | "CANCELLED";

/** One delivery of a message. */
export interface DeliveryAttempt {
  /** The `Upstash-Retried` value sent with this delivery (0 for the first). */
  retried: number;
  /** When the delivery started, unix milliseconds. */
  at: number;
  /** How long the destination took to answer (or to fail), milliseconds. */
  durationMs: number;
  /** The destination's HTTP status, when it answered. */
  status?: number;
  /** Why the delivery failed without an HTTP answer (connection refused, timeout...). */
  error?: string;
  /** The start of the answer's body (at most 1 KiB of text), when the destination answered. */
  body?: string;
}

/** A message, its state and its deliveries so far. A snapshot: changing it changes nothing in the engine. */
export interface MessageRecord {
  /** The message id (`msg_...`), also sent as `Upstash-Message-Id`. */
  messageId: string;
  /** The destination URL exactly as published (the signature's `sub`). */
  url: string;
  /** The HTTP method of each delivery. */
  method: string;
  /** The headers delivered with the body (content type and forwarded headers), before QStash's own. */
  headers: Record<string, string>;
  /** The body as UTF-8 text; absent when it is not valid UTF-8 (see `bodyBase64`). */
  body?: string;
  /** The body in base64 when it is not valid UTF-8. */
  bodyBase64?: string;
  /** When the message was published, unix milliseconds. */
  createdAt: number;
  /** The earliest time of the first delivery, unix milliseconds. */
  notBefore: number;
  /** How many retries the message may use (deliveries = 1 + maxRetries). */
  maxRetries: number;
  /** How long one delivery may take before it counts as failed, seconds. */
  timeoutSeconds: number;
  /** The deduplication id given at publish time, if any (content-based ids are not shown). */
  deduplicationId?: string;
  /** The publisher's IP address when known, delivered as `Upstash-Caller-Ip`. */
  callerIp?: string;
  /** Where the message is. */
  state: MessageState;
  /** Every delivery so far, oldest first. */
  attempts: DeliveryAttempt[];
  /** When the next delivery is due, unix milliseconds, while the message waits. */
  nextDeliveryAt?: number;
  /** The dead-letter id, once the message is in the dead-letter queue. */
  dlqId?: string;
  /** The id of the message this one redelivers (see `DeliveryEngine.redeliver`). */
  redeliveryOf?: string;
  /** The id of the message that redelivered this dead letter; it then left the dead-letter queue. */
  redeliveredAs?: string;
  /** The HTTP status of the last delivery, when the destination answered. */
  responseStatus?: number;
  /** The response headers of the last delivery. */
  responseHeader?: Record<string, string[]>;
  /** The start of the last response body (at most 4 KiB of text). */
  responseBody?: string;
}
