import { describeError } from "../errors.js";
import { buildRefreshMessage, type RefreshMessage } from "../message.js";
import { withTimeout } from "../timeout.js";
import { breakerFor } from "./breaker.js";
import type { CoreContext } from "./context.js";
import { runRefresh } from "./runner.js";
import type { RefreshReason, RefreshRequest } from "./request.js";
import { refreshUrlFor } from "./settings.js";

/** The refresh URL; says once in the log when it is a guess (no URL configured, outside production). */
export function refreshUrl(ctx: CoreContext): string {
  const { url, guessed } = refreshUrlFor(ctx.settings);
  if (guessed) ctx.report.once("refresh-url", `[next-cacheback] CACHEBACK_REFRESH_URL is not set; refreshes go to ${url} (outside production only).`);
  return url;
}

/** What became of a dispatched refresh. */
export type DispatchOutcome = "published" | "ran-here" | "released";

/** A refresh whose lock this process holds, on its way to the queue (or to this process). */
export interface Dispatch {
  request: RefreshRequest;
  token: string;
  queuedAt: number;
  reason: RefreshReason;
}

/**
 * Where a refresh whose lock this process won goes: to the queue, or, when the queue fails (refused,
 * timed out, 5xx, 429, out of quota), to this process, which runs it under the same lock and the same
 * compare-and-set (the `queueFallback` setting). After a failure the queue is left alone for a growing,
 * bounded interval, during which refreshes run here without trying it; publishing resumes by itself.
 */
export class Dispatcher {
  readonly #ctx: CoreContext;

  constructor(ctx: CoreContext) {
    this.#ctx = ctx;
  }

  /** Sends the refresh on its way; settles when it is published, or run here, or given up. Never rejects. */
  async dispatch(item: Dispatch): Promise<DispatchOutcome> {
    const ctx = this.#ctx;
    const breaker = breakerFor(ctx.queue);
    if (breaker.decide(ctx.now()) === "skip") return this.#fallback(item, "queue-paused", undefined);
    try {
      await this.publish(item);
      return "published";
    } catch (error) {
      ctx.report.error("publish", item.request.keys.entry, error);
      if (breaker.failed(ctx.now(), ctx.settings.publishBackoff)) {
        ctx.report.line(
          `[next-cacheback] Publishing a refresh to the ${ctx.queue.name} queue failed (${describeError(error)}). ` +
            (ctx.settings.queueFallback ? "Refreshes run in this process meanwhile; " : "Stale entries wait meanwhile; ") +
            `publishing is tried again after at most ${ctx.settings.publishBackoff.maxMs / 1000} s.`,
        );
      }
      return this.#fallback(item, "publish-failed", error);
    }
  }

  /** Publishes one refresh (the lock is held with `item.token`); returns the message id. Throws when the queue fails. */
  async publish(item: Dispatch): Promise<string> {
    const ctx = this.#ctx;
    const { request } = item;
    const url = refreshUrl(ctx);
    const message = messageOf(item);
    const { messageId } = await withTimeout(
      ctx.queue.publish(message, { url, deduplicationId: `cacheback-${item.token}` }),
      ctx.settings.publishTimeoutMs,
      () => `publish of the refresh of ${request.keys.entry}`,
    );
    const outage = breakerFor(ctx.queue).succeeded(ctx.now());
    if (outage !== undefined) ctx.report.line(`[next-cacheback] The ${ctx.queue.name} queue takes refreshes again (after ${(outage / 1000).toFixed(1)} s).`);
    ctx.events.emit("refresh-queued", { key: request.keys.entry, job: request.job, messageId, reason: item.reason });
    return messageId;
  }

  /** The queue failed or is paused: run the refresh here under the lock, or release the lock for a later read. */
  async #fallback(item: Dispatch, why: "publish-failed" | "queue-paused", error: unknown): Promise<DispatchOutcome> {
    const ctx = this.#ctx;
    const { request, token } = item;
    if (!ctx.settings.queueFallback || !request.fn) {
      await ctx.store.releaseLock(request.keys.lock, token).catch((e: unknown) => ctx.report.error("unlock", request.keys.entry, e));
      return "released";
    }
    ctx.events.emit("refresh-fallback", { key: request.keys.entry, job: request.job, reason: why, error });
    await runRefresh(ctx, messageOf(item), request.fn, request.readOptions);
    return "ran-here";
  }
}

function messageOf({ request, token, queuedAt }: Dispatch): RefreshMessage {
  return buildRefreshMessage(request.job, request.args, token, queuedAt, request.options, request.tags);
}
