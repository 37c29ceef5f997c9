import { Receiver } from "@upstash/qstash";
import type { CachebackCore } from "../core/core.js";
import { CachebackConfigError, describeError } from "../errors.js";
import { parseDelivery } from "../message.js";
import type { SigningKeys } from "../queues/types.js";
import { json, NON_RETRYABLE, nonRetryable } from "./answers.js";
import { readBody } from "./body.js";
import { mapLimited, runItem, type ItemAnswer } from "./item.js";
import { registry, type JobList } from "./registry.js";

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
   * How many refreshes of one batch message run at the same time.
   * @default 8
   */
  batchConcurrency?: number;
  /**
   * After writing a new value of an entry with tags, call Next.js's `revalidateTag(tag, "max")` for them,
   * so that pages Next.js cached with the old value (`'use cache'`, ISR) regenerate on their next request
   * instead of waiting out their own lifetime.
   * @default true
   */
  nextCache?: boolean;
}

/** The body of a 489 answer without its `error`, which `nonRetryable` takes apart. */
function withoutError(body: Record<string, unknown>): Record<string, unknown> {
  const { error: _error, ok: _ok, ...rest } = body;
  return rest;
}

/**
 * The refresh route: `export const POST = createRefreshHandler({ jobs: [...] })` in
 * `app/api/cacheback/route.ts`. It verifies the QStash signature (official `Receiver`, current and next
 * key, URL claim = the configured refresh URL), finds the job by name, runs it and writes the entry.
 *
 * Answers: 200 done (or nothing to do); 401 bad or missing signature; 413 body too large; 489 with
 * `Upstash-NonRetryable-Error: true` for a message that can never succeed (unknown job, malformed body,
 * refused args, a value that cannot be stored); 500 the job threw; 503 the store failed; 504 the job
 * ran past `refreshTimeout`. QStash retries the 5xx answers; the old entry stays served meanwhile.
 * A batch (several refreshes in one message) answers 200 with each refresh's outcome, or the first
 * retryable failure's 5xx, so that QStash retries it: the refreshes already done are then skipped.
 * 489 is for a batch body that is not a batch; a refresh of a batch that can never succeed is dropped
 * alone (its lock released), and the others run.
 */
export function createRefreshHandler(options: RefreshHandlerOptions, defaultInstance?: () => CachebackCore): (request: Request) => Promise<Response> {
  const jobs = registry(options.jobs);
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const clockTolerance = options.clockTolerance ?? 5;
  const batchConcurrency = options.batchConcurrency ?? 8;
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
    const delivery = parseDelivery(parsed);
    if ("problem" in delivery) return nonRetryable(`Not a next-cacheback refresh message: ${delivery.problem}`);
    const nextCache = options.nextCache !== false;

    if (delivery.kind === "single") {
      const answer = await runItem(cb, jobs, delivery.message, nextCache);
      if (answer.status === NON_RETRYABLE) return nonRetryable(String(answer.body.error), withoutError(answer.body));
      return json(answer.status, answer.body);
    }

    // A batch: every refresh runs (a bounded number at a time), each under its own lock token. Those that
    // can never succeed are dropped alone; if any failed in a way worth retrying, the answer is 5xx, and
    // QStash's retry skips the refreshes already done (their completion is marked per lock token).
    const answers = await mapLimited(delivery.items, batchConcurrency, async (item): Promise<ItemAnswer> => {
      if (item.ok) return runItem(cb, jobs, item.message, nextCache);
      // Malformed: its lock cannot be told for sure, and expires after its refreshTimeout.
      return { status: NON_RETRYABLE, body: { ok: false, job: item.job, error: `Not a next-cacheback refresh message: ${item.problem}` } };
    });
    const retry = answers.find((a) => a.status >= 500);
    const results = answers.map((a) => ({ code: a.status, ...a.body }));
    const dropped = answers.filter((a) => a.status === NON_RETRYABLE).length;
    if (dropped > 0) console.warn(`[next-cacheback] refresh route: ${dropped} of ${answers.length} refreshes of a batch can never succeed and were dropped: ${answers.filter((a) => a.status === NON_RETRYABLE).map((a) => a.body.error).join("; ")}`);
    if (retry) return json(retry.status, { ok: false, retry: true, results });
    return json(200, { ok: true, results });
  };
}
