import type { CachebackCore } from "../core/core.js";
import type { RefreshFailure } from "../core/results.js";
import { describeError } from "../errors.js";
import type { RefreshMessage } from "../message.js";
import type { RefreshRecord } from "../telemetry/types.js";
import { invalidateNextTags } from "../next/invalidate.js";
import { argsProblem } from "../schema.js";
import { NON_RETRYABLE } from "./answers.js";
import { unknownJobText, type Registered } from "./registry.js";

/** What became of one refresh of a delivery: the HTTP status it alone would get, and what to say. */
export interface ItemAnswer {
  status: number;
  body: Record<string, unknown>;
  /** What became of it, for its span and its metrics (not sent). */
  record: RefreshRecord;
}

const FAILURE_STATUS: Record<RefreshFailure["phase"], number> = {
  options: NON_RETRYABLE,
  serialize: NON_RETRYABLE,
  store: 503,
  fetch: 500,
  timeout: 504,
};

/**
 * Runs one delivered refresh: finds its job, checks its arguments, runs it. A refresh that can never
 * succeed (unknown job, refused arguments, a value that cannot be stored) gets 489 and its lock is
 * released; a failure worth retrying gets 5xx (the old entry stays served meanwhile). After writing a
 * tagged entry, it asks Next.js to regenerate the pages that embed it (`nextCache`).
 */
export async function runItem(cb: CachebackCore, jobs: Map<string, Registered>, message: RefreshMessage, nextCache: boolean): Promise<ItemAnswer> {
  const job = jobs.get(message.job);
  if (!job) {
    await cb.releaseLockFor(message);
    const error = unknownJobText(message.job, jobs.keys());
    return { status: NON_RETRYABLE, body: { ok: false, job: message.job, error }, record: { outcome: "dropped", error } };
  }
  const refused = await argsProblem(job.options?.args, message.args).catch((error: unknown) => describeError(error));
  if (refused) {
    await cb.releaseLockFor(message);
    const error = `Arguments refused for job "${message.job}": ${refused}`;
    return { status: NON_RETRYABLE, body: { ok: false, job: message.job, error }, record: { outcome: "dropped", error } };
  }

  const outcome = await cb.runRefresh(message, job.fn, job.options);
  const record: RefreshRecord = outcome.ok ? { outcome: outcome.status } : { outcome: "failed", phase: outcome.phase, error: outcome.error };
  if (outcome.ok) {
    if (outcome.status === "written" && nextCache) await invalidateNextTags(outcome.tags, "pages");
    return { status: 200, body: { ok: true, job: message.job, key: outcome.key, status: outcome.status, durationMs: outcome.durationMs }, record };
  }
  const status = FAILURE_STATUS[outcome.phase];
  if (status === NON_RETRYABLE) {
    await cb.releaseLockFor(message);
    return {
      status,
      body: { ok: false, job: message.job, key: outcome.key, error: `Job "${message.job}" cannot be refreshed (${outcome.phase}): ${describeError(outcome.error)}` },
      record,
    };
  }
  return { status, body: { ok: false, job: message.job, key: outcome.key, phase: outcome.phase, error: describeError(outcome.error), retry: true }, record };
}

/** Runs `work` over `items` with at most `limit` at a time, keeping their order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
