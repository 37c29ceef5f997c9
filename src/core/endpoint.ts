import { CachebackConfigError } from "../errors.js";
import type { SigningKeys } from "../queues/types.js";
import type { CoreContext } from "./context.js";
import type { CoreSettings } from "./settings.js";

// What only publishing and the refresh route need (the refresh URL and the signing keys, and what to
// say when they are missing) loads with them: a page that serves hits never does.

/** The refresh URL to publish to, or why there is none (pure). */
export function refreshUrlFor(settings: CoreSettings): { url: string; guessed: boolean } {
  if (settings.refreshUrl) return { url: settings.refreshUrl, guessed: false };
  if (settings.production) {
    throw new CachebackConfigError(
      "No refresh URL: set CACHEBACK_REFRESH_URL to the absolute URL of your refresh route " +
        "(for example https://your-app.example/api/cacheback), or pass refreshUrl to createCacheback(). " +
        "It is never taken from a request's Host header.",
    );
  }
  return { url: settings.localRefreshUrl, guessed: true };
}

/** The refresh URL; says once in the log when it is a guess (no URL configured, outside production). */
export function refreshUrl(ctx: CoreContext): string {
  const { url, guessed } = refreshUrlFor(ctx.settings);
  if (guessed) ctx.report.once("refresh-url", `[next-cacheback] CACHEBACK_REFRESH_URL is not set; refreshes go to ${url} (outside production only).`);
  return url;
}

/** The keys the refresh route verifies deliveries with (pure); throws when there are none. */
export function signingKeysFor(settings: CoreSettings): SigningKeys {
  if (settings.signingKeys) return settings.signingKeys;
  throw new CachebackConfigError(
    "The refresh route cannot verify QStash signatures: set QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY " +
      "(Upstash console > QStash > Signing keys), or pass signingKeys to createCacheback().",
  );
}

/**
 * What the refresh route checks a delivery against: the URL it must be signed for and the keys.
 * @throws CachebackConfigError when either is missing.
 */
export function routeEndpoint(ctx: CoreContext): { url: string; keys: SigningKeys } {
  return { url: refreshUrl(ctx), keys: signingKeysFor(ctx.settings) };
}
