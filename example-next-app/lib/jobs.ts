import { defineJob } from "next-cacheback";
import { lifetimeSeconds } from "./settings";
import { fetchQuote, fetchTrending, isSymbol } from "./source";

/** The tag every quote carries: `cacheback.revalidateTag(QUOTES_TAG)` refreshes the whole list. */
export const QUOTES_TAG = "quotes";

/** The tag of one symbol's quote: `cacheback.updateTag(quoteTag("ACME"))` after editing its note. */
export function quoteTag(symbol: string): string {
  return `quote:${symbol}`;
}

/**
 * A job with an argument: one cache entry per symbol (`cacheback:entry:quote:["ACME"]`). Pages call
 * `quote(symbol)` or `quote.withStatus(symbol)`; the refresh route runs `fetchQuote(symbol)`. Each entry
 * carries two tags, `quotes` and `quote:<SYMBOL>`; read inside `'use cache'`, the entry's tags are attached to
 * Next.js's cache entry too (`cacheTag`), so invalidating a tag reaches both caches.
 */
export const quote = defineJob("quote", fetchQuote, {
  lifetime: lifetimeSeconds(),
  tags: (symbol: string) => [QUOTES_TAG, quoteTag(symbol)],
  // The refresh route refuses (489, no retries) a message whose argument is not a ticker.
  args: (args) => args.length === 1 && typeof args[0] === "string" && isSymbol(args[0]),
});

/**
 * A job that never makes a reader wait: on a miss it returns `null` at once and fills the cache in the
 * background (`fetchOnMiss: false`).
 */
export const trending = defineJob("trending", fetchTrending, {
  lifetime: lifetimeSeconds(),
  fetchOnMiss: false,
  empty: null,
});
