import { defineJob } from "next-cacheback";
import { lifetimeSeconds } from "./settings";
import { fetchQuote, fetchTrending, isSymbol } from "./source";

/**
 * A job with an argument: one cache entry per symbol (`cacheback:entry:quote:["ACME"]`). Pages call
 * `quote(symbol)` or `quote.withStatus(symbol)`; the refresh route runs `fetchQuote(symbol)`.
 */
export const quote = defineJob("quote", fetchQuote, {
  lifetime: lifetimeSeconds(),
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
