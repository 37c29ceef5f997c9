import type { CachebackCore } from "../core/core.js";
import { CachebackConfigError } from "../errors.js";
import { registry, type JobList } from "./registry.js";
import type { RouteSetup, serve as Serve } from "./serve.js";

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
  const setup: RouteSetup = {
    jobs: registry(options.jobs), // checked now: a bad jobs list fails when the route module loads
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    clockTolerance: options.clockTolerance ?? 5,
    batchConcurrency: options.batchConcurrency ?? 8,
    nextCache: options.nextCache !== false,
    instance: () => {
      if (options.cacheback) return options.cacheback;
      if (defaultInstance) return defaultInstance();
      throw new CachebackConfigError("createRefreshHandler: no instance to write to");
    },
  };
  // What serves a delivery is loaded with the first one: pages never load it.
  let serve: Promise<typeof Serve> | undefined;
  return async function refreshHandler(request: Request): Promise<Response> {
    serve ??= import("./serve.js").then((m) => m.serve);
    return (await serve)(setup, request);
  };
}
