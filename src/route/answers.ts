/** HTTP status QStash treats as "never retry" (with the `Upstash-NonRetryable-Error` header). */
export const NON_RETRYABLE = 489;

/** A JSON answer. */
export function json(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** A 489 that tells QStash not to retry: the message can never succeed. */
export function nonRetryable(error: string, extra: Record<string, unknown> = {}): Response {
  return json(NON_RETRYABLE, { ok: false, error, ...extra }, { "Upstash-NonRetryable-Error": "true" });
}
