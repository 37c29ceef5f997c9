import type { EntryKeys } from "../keys.js";
import { buildRefreshMessage } from "../message.js";
import type { ResolvedRefreshOptions } from "../options.js";
import { withTimeout } from "../timeout.js";
import type { CoreContext } from "./context.js";
import { decide } from "./decide.js";
import { lookup } from "./lookup.js";
import { refreshUrlFor } from "./settings.js";

/** How long a process skips its own repeated refresh requests for one entry (capped by refreshTimeout). */
const REFRESH_REQUEST_MEMO_MS = 250;
/** Past this many remembered requests, the expired ones are swept. */
const MEMO_SWEEP_SIZE = 10_000;

/** The `background` of a read with nothing left to do. */
export const SETTLED: Promise<void> = Promise.resolve();

/** One entry to refresh in the background. */
export interface RefreshRequest {
  keys: EntryKeys;
  job: string;
  args: readonly unknown[];
  options: ResolvedRefreshOptions;
  /** The entry's tags (encoded); empty when it has none. */
  tags: readonly string[];
}

/** Why a refresh is queued (reported in `refresh-queued` events). */
export type RefreshReason = "stale" | "miss" | "invalidate";

/** The refresh URL; says once in the log when it is a guess (no URL configured, outside production). */
export function refreshUrl(ctx: CoreContext): string {
  const { url, guessed } = refreshUrlFor(ctx.settings);
  if (guessed) ctx.report.once("refresh-url", `[next-cacheback] CACHEBACK_REFRESH_URL is not set; refreshes go to ${url} (outside production only).`);
  return url;
}

/**
 * Refresh scheduling: turns "this entry needs a refresh" into at most one queued message across every
 * instance. A request takes the shared refresh lock (`SET NX PX`), checks that the entry is still not
 * fresh, and publishes one message whose deduplication id comes from the lock token.
 */
export class RefreshScheduler {
  readonly #ctx: CoreContext;
  /** Lock key → until when this process does not try that lock again. */
  readonly #requested = new Map<string, number>();

  constructor(ctx: CoreContext) {
    this.#ctx = ctx;
  }

  /**
   * Asks for a background refresh, unless this process asked for one of this entry moments ago: the
   * lock that attempt took or found is still held, so another attempt could only lose. Stale reads thus
   * cost one `GET`, like hits, while a refresh is on its way; a failed attempt clears the memo at once.
   */
  request(request: RefreshRequest, reason: "stale" | "miss"): Promise<void> {
    const now = this.#ctx.now();
    const lock = request.keys.lock;
    const until = this.#requested.get(lock);
    if (until !== undefined && until > now) return SETTLED;
    if (this.#requested.size >= MEMO_SWEEP_SIZE) {
      for (const [key, t] of this.#requested) if (t <= now) this.#requested.delete(key);
    }
    this.#requested.set(lock, now + Math.min(request.options.refreshTimeout * 1000, REFRESH_REQUEST_MEMO_MS));
    return this.#ctx.settings.runInBackground(() => this.#queue(request, reason));
  }

  /** Publishes the refresh of `request` under the lock held with `token`; returns the message id. */
  async publish(request: RefreshRequest, token: string, queuedAt: number, reason: RefreshReason): Promise<string> {
    const url = refreshUrl(this.#ctx);
    const message = buildRefreshMessage(request.job, request.args, token, queuedAt, request.options, request.tags);
    const { messageId } = await withTimeout(
      this.#ctx.queue.publish(message, { url, deduplicationId: `cacheback-${token}` }),
      this.#ctx.settings.backgroundTimeoutMs,
      () => `publish of the refresh of ${request.keys.entry}`,
    );
    this.#ctx.events.emit("refresh-queued", { key: request.keys.entry, job: request.job, messageId, reason });
    return messageId;
  }

  /** Background: wins the shared refresh lock, or leaves the refresh to whoever holds it. */
  async #queue(request: RefreshRequest, reason: "stale" | "miss"): Promise<void> {
    const { store, report, settings } = this.#ctx;
    const { keys, options } = request;
    const token = crypto.randomUUID();
    let won: boolean;
    try {
      won = await withTimeout(store.acquireLock(keys.lock, token, options.refreshTimeout * 1000), settings.backgroundTimeoutMs, () => `lock of ${keys.lock}`);
    } catch (error) {
      this.#requested.delete(keys.lock);
      report.error("lock", keys.entry, error);
      return;
    }
    if (!won) return;
    const unlock = () =>
      withTimeout(store.releaseLock(keys.lock, token), settings.backgroundTimeoutMs, () => `unlock of ${keys.lock}`).catch((e: unknown) =>
        report.error("unlock", keys.entry, e),
      );
    // The refresh route releases the lock once it has written, so a reader that saw the entry stale just
    // before that can win the lock just after it: then the entry is fresh again and there is nothing to queue.
    if (await this.#freshNow(request)) {
      await unlock();
      return;
    }
    try {
      await this.publish(request, token, this.#ctx.now(), reason);
    } catch (error) {
      report.error("publish", keys.entry, error);
      // Let a later read queue the refresh again instead of waiting out the lock.
      this.#requested.delete(keys.lock);
      await unlock();
    }
  }

  /** Whether the entry is fresh right now, its tags included (one store read); `false` when the store cannot tell. */
  async #freshNow({ keys, options, tags }: RefreshRequest): Promise<boolean> {
    try {
      const found = await lookup(this.#ctx, { keys, tags, timeoutMs: this.#ctx.settings.backgroundTimeoutMs, memo: false });
      return decide(found.entry, found.verdict, this.#ctx.now(), options.fetchOnStaleThreshold).state === "fresh";
    } catch {
      return false;
    }
  }
}
