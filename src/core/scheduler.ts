import { withTimeout } from "../timeout.js";
import type { CoreContext } from "./context.js";
import { decide } from "./decide.js";
import type { Dispatcher } from "./dispatch.js";
import { lookup } from "./lookup.js";
import { SETTLED, type RefreshRequest } from "./request.js";

export type { RefreshReason, RefreshRequest } from "./request.js";

/** Where an instance keeps its scheduler: made with the first refresh asked for (a hit never needs one). */
export interface SchedulerSlot {
  ctx: CoreContext;
  scheduler?: RefreshScheduler;
}

/** The instance's scheduler, made on first use. */
export function schedulerOf(slot: SchedulerSlot): RefreshScheduler {
  return (slot.scheduler ??= new RefreshScheduler(slot.ctx));
}

/** How long a process skips its own repeated refresh requests for one entry (capped by refreshTimeout). */
const REFRESH_REQUEST_MEMO_MS = 250;
/** Past this many remembered requests, the expired ones are swept. */
const MEMO_SWEEP_SIZE = 10_000;

/**
 * Refresh scheduling: turns "this entry needs a refresh" into at most one refresh across every
 * instance. A request takes the shared refresh lock (`SET NX PX`), checks that the entry is still not
 * fresh, and hands the refresh to the dispatcher (the queue, or this process when the queue fails).
 */
export class RefreshScheduler {
  readonly #ctx: CoreContext;
  #dispatcher: Promise<Dispatcher> | undefined;
  /** Lock key → until when this process does not try that lock again. */
  readonly #requested = new Map<string, number>();

  constructor(ctx: CoreContext) {
    this.#ctx = ctx;
  }

  /** The dispatcher, loaded with the first refresh (an app that only serves hits never loads it). */
  dispatcher(): Promise<Dispatcher> {
    const ctx = this.#ctx;
    return (this.#dispatcher ??= import("./dispatch.js").then((m) => new m.Dispatcher(ctx)));
  }

  /**
   * Asks for a background refresh, unless this process asked for one of this entry moments ago: the
   * lock that attempt took or found is still held, so another attempt could only lose. Stale reads thus
   * cost one `GET`, like hits, while a refresh is on its way; an attempt that gave up clears the memo.
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
    // The refresh route releases the lock once it has written, so a reader that saw the entry stale just
    // before that can win the lock just after it: then the entry is fresh again and there is nothing to queue.
    if (await this.#freshNow(request)) {
      await withTimeout(store.releaseLock(keys.lock, token), settings.backgroundTimeoutMs, () => `unlock of ${keys.lock}`).catch((e: unknown) =>
        report.error("unlock", keys.entry, e),
      );
      return;
    }
    const outcome = await (await this.dispatcher()).dispatch({ request, token, queuedAt: this.#ctx.now(), reason });
    // Given up (the queue failed and refreshing here is off): let a later read try again at once.
    if (outcome === "released") this.#requested.delete(keys.lock);
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
