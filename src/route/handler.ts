import { Receiver } from "@upstash/qstash";
import type { CachebackCore } from "../core/core.js";
import type { RefreshFailure } from "../core/results.js";
import { CachebackConfigError, describeError } from "../errors.js";
import { refreshMessageProblem, type RefreshMessage } from "../message.js";
import { invalidateNextTags } from "../next/bridge.js";
import type { SigningKeys } from "../queues/types.js";
import { argsProblem } from "../schema.js";
import { json, NON_RETRYABLE, nonRetryable } from "./answers.js";
import { readBody } from "./body.js";
import { registry, unknownJobText, type JobList } from "./registry.js";

/** Options of `createRefreshHandler`. */
export interface RefreshHandlerOptions {
  /**
   * The jobs this route can run, found by name: a list of `defineJob` jobs, or an object mapping each
   * job name to its fetcher (or job), e.g. `{ quote: slowQuote }` for `cachebackFetch(["quote", id], slowQuote)`.
   */
  jobs: JobList;
  /**
   * The instance whose store the route writes to and whose keys verify signatures.
   * @default the default instance (configured from the environment)
   */
  cacheback?: CachebackCore;
  /**
   * Largest request body accepted, in bytes; a larger one gets 413 before anything is parsed.
   * @default 1048576 (1 MiB)
   */
  maxBodyBytes?: number;
  /**
   * Seconds of clock skew tolerated on the signature's `nbf` / `exp`.
   * @default 5
   */
  clockTolerance?: number;
  /**
   * After writing a new value of an entry with tags, call Next.js's `revalidateTag(tag, "max")` for them,
   * so that pages Next.js cached with the old value (`'use cache'`, ISR) regenerate on their next request
   * instead of waiting out their own lifetime.
   * @default true
   */
  nextCache?: boolean;
}

const FAILURE_STATUS: Record<RefreshFailure["phase"], number> = {
  options: NON_RETRYABLE,
  serialize: NON_RETRYABLE,
  store: 503,
  fetch: 500,
  timeout: 504,
};

/**
 * The refresh route: `export const POST = createRefreshHandler({ jobs: [...] })` in
 * `app/api/cacheback/route.ts`. It verifies the QStash signature (official `Receiver`, current and next
 * key, URL claim = the configured refresh URL), finds the job by name, runs it and writes the entry.
 *
 * Answers: 200 done (or nothing to do); 401 bad or missing signature; 413 body too large; 489 with
 * `Upstash-NonRetryable-Error: true` for a message that can never succeed (unknown job, malformed body,
 * refused args, a value that cannot be stored); 500 the job threw; 503 the store failed; 504 the job
 * ran past `refreshTimeout`. QStash retries the 5xx answers; the old entry stays served meanwhile.
 */
export function createRefreshHandler(options: RefreshHandlerOptions, defaultInstance?: () => CachebackCore): (request: Request) => Promise<Response> {
  const jobs = registry(options.jobs);
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const clockTolerance = options.clockTolerance ?? 5;
  const instance = () => {
    if (options.cacheback) return options.cacheback;
    if (defaultInstance) return defaultInstance();
    throw new CachebackConfigError("createRefreshHandler: no instance to write to");
  };
  let receiver: { keys: string; receiver: Receiver } | undefined;
  const receiverFor = (keys: SigningKeys): Receiver => {
    const keyId = `${keys.current}\n${keys.next}`;
    if (receiver?.keys !== keyId) {
      receiver = { keys: keyId, receiver: new Receiver({ currentSigningKey: keys.current, nextSigningKey: keys.next, devMode: false }) };
    }
    return receiver.receiver;
  };

  return async function refreshHandler(request: Request): Promise<Response> {
    if (request.method !== "POST") return json(405, { ok: false, error: "The refresh route only accepts POST (from QStash)" }, { allow: "POST" });

    let cb: CachebackCore;
    let url: string;
    let keys: SigningKeys;
    try {
      cb = instance();
      url = cb.refreshUrl();
      keys = cb.signingKeys();
    } catch (error) {
      console.error(`[next-cacheback] refresh route misconfigured: ${describeError(error)}`);
      return json(500, { ok: false, error: describeError(error) });
    }

    const body = await readBody(request, maxBodyBytes).catch(() => undefined);
    if (body === undefined) return json(413, { ok: false, error: `Body larger than ${maxBodyBytes} bytes` });

    const signature = request.headers.get("upstash-signature");
    if (!signature) return json(401, { ok: false, error: "Missing Upstash-Signature header" });
    try {
      const valid = await receiverFor(keys).verify({ signature, body, url, clockTolerance });
      if (!valid) return json(401, { ok: false, error: "Invalid signature" });
    } catch (error) {
      return json(401, { ok: false, error: `Invalid signature: ${error instanceof Error ? error.message : String(error)}` });
    }

    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return nonRetryable("The body is not JSON; expected a next-cacheback refresh message");
    }
    const problem = refreshMessageProblem(parsed);
    if (problem) return nonRetryable(`Not a next-cacheback refresh message: ${problem}`);
    const message = parsed as RefreshMessage;

    const job = jobs.get(message.job);
    if (!job) {
      await cb.releaseLockFor(message);
      return nonRetryable(unknownJobText(message.job, jobs.keys()), { job: message.job });
    }
    const refused = await argsProblem(job.options?.args, message.args).catch((error: unknown) => describeError(error));
    if (refused) {
      await cb.releaseLockFor(message);
      return nonRetryable(`Arguments refused for job "${message.job}": ${refused}`, { job: message.job });
    }

    const outcome = await cb.runRefresh(message, job.fn, job.options);
    if (outcome.ok && outcome.status === "written" && options.nextCache !== false) await invalidateNextTags(outcome.tags, "pages");
    if (outcome.ok) return json(200, { ok: true, job: message.job, key: outcome.key, status: outcome.status, durationMs: outcome.durationMs });
    const status = FAILURE_STATUS[outcome.phase];
    if (status === NON_RETRYABLE) {
      await cb.releaseLockFor(message);
      return nonRetryable(`Job "${message.job}" cannot be refreshed (${outcome.phase}): ${describeError(outcome.error)}`, {
        job: message.job,
        key: outcome.key,
      });
    }
    return json(status, { ok: false, job: message.job, key: outcome.key, phase: outcome.phase, error: describeError(outcome.error), retry: true });
  };
}
