/** QStash's retry schedule, as pure functions. */

/** The longest wait between two deliveries of one message, in seconds (one day). */
export const MAX_RETRY_DELAY_SECONDS = 86_400;

/**
 * How long QStash waits before retry number `retried` (1-based: 1 is the first retry, after the first failed
 * delivery): `min(86400, e^(2.5 · retried))` seconds, about 12 s, 2 min 28 s, 30 min, 6 h, then a day;
 * multiplied by `scale` (tests use a tiny scale), in milliseconds.
 */
export function retryDelayMs(retried: number, scale = 1): number {
  const n = Math.max(1, Math.floor(retried));
  const seconds = Math.min(MAX_RETRY_DELAY_SECONDS, Math.exp(2.5 * n));
  return seconds * 1000 * scale;
}

/**
 * Reads a `Retry-After` response header (delay in seconds, or an HTTP date) as a wait in milliseconds from
 * `nowMs`, capped at a day; `undefined` when it is absent or unreadable. Not scaled.
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    // An HTTP date names its month (IMF-fixdate, RFC 850 or asctime); bare numbers are not dates.
    if (!/[a-z]{3}/i.test(text)) return undefined;
    const date = Date.parse(text);
    if (Number.isNaN(date)) return undefined;
    ms = Math.max(0, date - nowMs);
  }
  return Math.min(ms, MAX_RETRY_DELAY_SECONDS * 1000);
}

/**
 * The wait before retry number `retried` (1-based) in milliseconds: the response's `Retry-After` when it has
 * one, else {@link retryDelayMs}; both multiplied by `scale`.
 */
export function nextRetryDelayMs(
  retried: number,
  options: { scale?: number; retryAfter?: string | null; nowMs?: number } = {},
): number {
  const scale = options.scale ?? 1;
  const override = parseRetryAfterMs(options.retryAfter, options.nowMs ?? Date.now());
  return override === undefined ? retryDelayMs(retried, scale) : override * scale;
}

/**
 * How long after its first delivery QStash may still deliver a message that keeps failing, with `retries`
 * retries (QStash's default is 3: about 33 minutes), in ms: the sum of the waits, multiplied by `scale`.
 */
export function retryHorizonMs(retries: number, scale = 1): number {
  let total = 0;
  for (let n = 1; n <= retries; n++) total += retryDelayMs(n, scale);
  return total;
}
