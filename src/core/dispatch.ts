import { describeError } from "../errors.js";
import { withTimeout } from "../timeout.js";
import { messageOf, packMessages, type Outgoing } from "./batch.js";
import { breakerFor } from "./breaker.js";
import type { CoreContext } from "./context.js";
import { refreshUrl } from "./endpoint.js";
import type { Dispatch } from "./request.js";
import { recordOf, runRefresh } from "./runner.js";

export type { Dispatch } from "./request.js";

/** What became of a dispatched refresh. */
export type DispatchOutcome = "published" | "ran-here" | "released";

interface Waiting {
  item: Dispatch;
  done: (outcome: DispatchOutcome) => void;
}

/**
 * Where a refresh whose lock this process won goes. Refreshes requested within `batchWindow` ms go out
 * together, as one message (split past `batchSize` refreshes or QStash's size limit). When the queue
 * fails (refused, timed out, 5xx, 429, out of quota), each refresh runs in this process under the same
 * lock and compare-and-set (`queueFallback`), and the queue is left alone for a growing, bounded
 * interval, during which refreshes run here without trying it; publishing resumes by itself.
 */
export class Dispatcher {
  readonly #ctx: CoreContext;
  #waiting: Waiting[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ctx: CoreContext) {
    this.#ctx = ctx;
  }

  /** Sends the refresh on its way; settles when it is published, run here, or given up. Never rejects. */
  dispatch(item: Dispatch): Promise<DispatchOutcome> {
    const ctx = this.#ctx;
    if (breakerFor(ctx.queue).decide(ctx.now()) === "skip") return this.#fallback([item], "queue-paused", undefined).then((o) => o[0]!);
    if (ctx.settings.batchWindowMs <= 0) return this.#send([item]).then((o) => o[0]!);
    return new Promise<DispatchOutcome>((done) => {
      this.#waiting.push({ item, done });
      if (this.#timer === undefined) this.#timer = setTimeout(() => void this.#flush(), ctx.settings.batchWindowMs);
    });
  }

  /** Publishes one refresh now, alone (what `invalidate` does); throws when the queue fails. */
  async publishNow(item: Dispatch): Promise<string> {
    const [outgoing] = packMessages([item], 1);
    return this.#publish(outgoing!);
  }

  async #flush(): Promise<void> {
    this.#timer = undefined;
    const waiting = this.#waiting;
    this.#waiting = [];
    const outcomes = await this.#send(waiting.map((w) => w.item));
    waiting.forEach((w, i) => w.done(outcomes[i]!));
  }

  /** Publishes `items` as few messages as fit; what a failure leaves goes to the fallback. One outcome per item. */
  async #send(items: Dispatch[]): Promise<DispatchOutcome[]> {
    const ctx = this.#ctx;
    const outcomes = new Map<Dispatch, DispatchOutcome>();
    const messages = packMessages(items, ctx.settings.batchSize);
    for (let i = 0; i < messages.length; i++) {
      const outgoing = messages[i]!;
      const startedAt = ctx.now();
      try {
        await this.#publish(outgoing);
        for (const item of outgoing.items) outcomes.set(item, "published");
      } catch (error) {
        for (const item of outgoing.items) ctx.report.error("publish", item.request.keys.entry, error);
        if (breakerFor(ctx.queue).failed(ctx.now(), ctx.settings.publishBackoff, startedAt)) {
          ctx.report.line(
            `[next-cacheback] Publishing refreshes to the ${ctx.queue.name} queue failed (${describeError(error)}). ` +
              (ctx.settings.queueFallback ? "Refreshes run in this process meanwhile; " : "Stale entries wait meanwhile; ") +
              `publishing is tried again after at most ${ctx.settings.publishBackoff.maxMs / 1000} s.`,
          );
        }
        // This message, and the ones not sent yet: the queue is failing.
        const rest = messages.slice(i).flatMap((m) => m.items);
        const fallbacks = await this.#fallback(rest, "publish-failed", error);
        rest.forEach((item, j) => outcomes.set(item, fallbacks[j]!));
        break;
      }
    }
    return items.map((item) => outcomes.get(item) ?? "released");
  }

  async #publish(outgoing: Outgoing): Promise<string> {
    const ctx = this.#ctx;
    const url = refreshUrl(ctx);
    const first = outgoing.items[0]!.request.keys.entry;
    const publish = () =>
      withTimeout(
        ctx.queue.publish(outgoing.body, { url, deduplicationId: outgoing.deduplicationId }),
        ctx.settings.publishTimeoutMs,
        () => `publish of the refresh of ${first}${outgoing.items.length > 1 ? ` and ${outgoing.items.length - 1} more` : ""}`,
      );
    const tel = ctx.tel;
    const { messageId } = await (tel ? tel.publish(ctx.queue.name, outgoing.items.map((i) => i.request), publish) : publish());
    const outage = breakerFor(ctx.queue).succeeded(ctx.now());
    if (outage !== undefined) ctx.report.line(`[next-cacheback] The ${ctx.queue.name} queue takes refreshes again (after ${(outage / 1000).toFixed(1)} s).`);
    for (const { request, reason } of outgoing.items) {
      ctx.events.emit("refresh-queued", { key: request.keys.entry, job: request.job, messageId, reason, batch: outgoing.items.length });
    }
    return messageId;
  }

  /** The queue failed or is paused: run each refresh here under its lock, or release the lock for a later read. */
  async #fallback(items: Dispatch[], why: "publish-failed" | "queue-paused", error: unknown): Promise<DispatchOutcome[]> {
    const ctx = this.#ctx;
    return Promise.all(
      items.map(async (item): Promise<DispatchOutcome> => {
        const { request, token } = item;
        if (!ctx.settings.queueFallback || !request.fn) {
          await ctx.store.releaseLock(request.keys.lock, token).catch((e: unknown) => ctx.report.error("unlock", request.keys.entry, e));
          return "released";
        }
        ctx.events.emit("refresh-fallback", { key: request.keys.entry, job: request.job, reason: why, error });
        const message = messageOf(item);
        const run = () => runRefresh(ctx, message, request.fn!, request.readOptions, "fallback");
        const tel = ctx.tel;
        await (tel ? tel.refresh(ctx.queue.name, { message, origin: "fallback", fallback: why }, run, recordOf) : run());
        return "ran-here";
      }),
    );
  }
}
