import { Receiver } from "@upstash/qstash";
import type { Cacheback, RefreshFailure } from "./cacheback.js";
import { CachebackConfigError } from "./errors.js";
import { isJob, type AnyJob, type JobOptions } from "./job.js";
import { checkJobName } from "./keys.js";
import { refreshMessageProblem, type RefreshMessage } from "./message.js";
import { argsProblem } from "./schema.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFetcher = (...args: any[]) => unknown;

/** Options of `createRefreshHandler`. */
export interface RefreshHandlerOptions {
  /**
   * The jobs this route can run, found by name: a list of `defineJob` jobs, or an object mapping each
   * job name to its fetcher (or job), e.g. `{ quote: slowQuote }` for `cachebackFetch(["quote", id], slowQuote)`.
   */
  jobs: readonly AnyJob[] | Readonly<Record<string, AnyJob | AnyFetcher>>;
  /**
   * The instance whose store the route writes to and whose keys verify signatures.
   * @default the default instance (configured from the environment)
   */
  cacheback?: Cacheback;
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
}

interface Registered {
  fn: AnyFetcher;
  options: JobOptions | undefined;
}

const NON_RETRYABLE = 489;

function json(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

function nonRetryable(error: string, extra: Record<string, unknown> = {}): Response {
  return json(NON_RETRYABLE, { ok: false, error, ...extra }, { "Upstash-NonRetryable-Error": "true" });
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function registry(jobs: RefreshHandlerOptions["jobs"]): Map<string, Registered> {
  const map = new Map<string, Registered>();
  const add = (name: string, entry: Registered) => {
    checkJobName(name);
    if (map.has(name)) throw new CachebackConfigError(`createRefreshHandler: two jobs are named "${name}"`);
    map.set(name, entry);
  };
  if (Array.isArray(jobs)) {
    for (const job of jobs as readonly unknown[]) {
      if (!isJob(job)) {
        throw new CachebackConfigError(
          "createRefreshHandler({ jobs: [...] }) takes jobs made with defineJob(name, fn); to register plain functions use an object: { jobs: { quote: slowQuote } }",
        );
      }
      add(job.jobName, { fn: job.fetcher, options: job.options });
    }
  } else if (jobs && typeof jobs === "object") {
    for (const [name, value] of Object.entries(jobs)) {
      if (isJob(value)) {
        if (value.jobName !== name) {
          throw new CachebackConfigError(`createRefreshHandler: jobs.${name} is the job "${value.jobName}"; register it under its own name`);
        }
        add(name, { fn: value.fetcher, options: value.options });
      } else if (typeof value === "function") {
        add(name, { fn: value, options: undefined });
      } else {
        throw new CachebackConfigError(`createRefreshHandler: jobs.${name} must be a function or a job made with defineJob`);
      }
    }
  } else {
    throw new CachebackConfigError("createRefreshHandler needs { jobs }: a list of defineJob jobs, or an object of fetchers by job name");
  }
  return map;
}

/** Reads at most `max` bytes of the body; `undefined` when it is larger. */
async function readBody(request: Request, max: number): Promise<string | undefined> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > max) return undefined;
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
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
export function createRefreshHandler(
  options: RefreshHandlerOptions,
  defaultInstance?: () => Cacheback,
): (request: Request) => Promise<Response> {
  const jobs = registry(options.jobs);
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const clockTolerance = options.clockTolerance ?? 5;
  const instance = () => {
    if (options.cacheback) return options.cacheback;
    if (defaultInstance) return defaultInstance();
    throw new CachebackConfigError("createRefreshHandler: no instance to write to");
  };
  let receiver: { keys: string; receiver: Receiver } | undefined;

  return async function refreshHandler(request: Request): Promise<Response> {
    if (request.method !== "POST") return json(405, { ok: false, error: "The refresh route only accepts POST (from QStash)" }, { allow: "POST" });

    let cb: Cacheback;
    let url: string;
    let keys: { current: string; next: string };
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
    const keyId = `${keys.current}\n${keys.next}`;
    if (receiver?.keys !== keyId) {
      receiver = { keys: keyId, receiver: new Receiver({ currentSigningKey: keys.current, nextSigningKey: keys.next, devMode: false }) };
    }
    try {
      const valid = await receiver.receiver.verify({ signature, body, url, clockTolerance });
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
      const known = [...jobs.keys()];
      return nonRetryable(
        `No job named "${message.job}" is registered with this refresh route. Register it in app/api/cacheback/route.ts: ` +
          `export const POST = createRefreshHandler({ jobs: [defineJob("${message.job}", yourFetcher)] }), ` +
          `or createRefreshHandler({ jobs: { "${message.job}": yourFetcher } }). Registered: ${known.length > 0 ? known.map((k) => `"${k}"`).join(", ") : "none"}.`,
        { job: message.job },
      );
    }
    const refused = await argsProblem(job.options?.args, message.args).catch((error: unknown) => describeError(error));
    if (refused) {
      await cb.releaseLockFor(message);
      return nonRetryable(`Arguments refused for job "${message.job}": ${refused}`, { job: message.job });
    }

    const outcome = await cb.runRefresh(message, job.fn, job.options);
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
