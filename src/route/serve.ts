import { Receiver } from "@upstash/qstash";
import type { CachebackCore } from "../core/core.js";
import { describeError } from "../errors.js";
import { parseDelivery, type RefreshMessage } from "../message.js";
import type { SigningKeys } from "../queues/types.js";
import type { SpanRef } from "../telemetry/types.js";
import { json, NON_RETRYABLE, nonRetryable } from "./answers.js";
import { readBody } from "./body.js";
import { mapLimited, runItem, type ItemAnswer } from "./item.js";
import type { Registered } from "./registry.js";

/** What `createRefreshHandler` worked out from its options. */
export interface RouteSetup {
  jobs: Map<string, Registered>;
  maxBodyBytes: number;
  clockTolerance: number;
  batchConcurrency: number;
  nextCache: boolean;
  instance: () => CachebackCore;
  /** The signature verifier, made once per pair of keys. */
  receiver?: { keys: string; receiver: Receiver };
}

/** The body of a 489 answer without its `error`, which `nonRetryable` takes apart. */
function withoutError(body: Record<string, unknown>): Record<string, unknown> {
  const { error: _error, ok: _ok, ...rest } = body;
  return rest;
}

function receiverFor(setup: RouteSetup, keys: SigningKeys): Receiver {
  const keyId = `${keys.current}\n${keys.next}`;
  if (setup.receiver?.keys !== keyId) {
    setup.receiver = { keys: keyId, receiver: new Receiver({ currentSigningKey: keys.current, nextSigningKey: keys.next, devMode: false }) };
  }
  return setup.receiver.receiver;
}

/** Serves one delivery to the refresh route (see `createRefreshHandler` for the answers). */
export async function serve(setup: RouteSetup, request: Request): Promise<Response> {
  const { jobs, maxBodyBytes, clockTolerance, batchConcurrency, nextCache } = setup;
  if (request.method !== "POST") return json(405, { ok: false, error: "The refresh route only accepts POST (from QStash)" }, { allow: "POST" });

  let cb: CachebackCore;
  let url: string;
  let keys: SigningKeys;
  try {
    cb = setup.instance();
    ({ url, keys } = await cb.routeEndpoint());
  } catch (error) {
    console.error(`[next-cacheback] refresh route misconfigured: ${describeError(error)}`);
    return json(500, { ok: false, error: describeError(error) });
  }

  const body = await readBody(request, maxBodyBytes).catch(() => undefined);
  if (body === undefined) return json(413, { ok: false, error: `Body larger than ${maxBodyBytes} bytes` });

  const signature = request.headers.get("upstash-signature");
  if (!signature) return json(401, { ok: false, error: "Missing Upstash-Signature header" });
  try {
    const valid = await receiverFor(setup, keys).verify({ signature, body, url, clockTolerance });
    if (!valid) return json(401, { ok: false, error: "Invalid signature" });
  } catch (error) {
    return json(401, { ok: false, error: `Invalid signature: ${describeError(error)}` });
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return nonRetryable("The body is not JSON; expected a next-cacheback refresh message");
  }
  const delivery = parseDelivery(parsed);
  if ("problem" in delivery) return nonRetryable(`Not a next-cacheback refresh message: ${delivery.problem}`);

  // With OpenTelemetry on, each refresh is a span, a child of the read that queued it; a batch's delivery
  // is a span too, linked to every one of their reads.
  const tel = await cb.telemetry();
  const item = (message: RefreshMessage, span?: SpanRef): Promise<ItemAnswer> => {
    const run = () => runItem(cb, jobs, message, nextCache);
    return tel ? tel.refresh(cb.queue.name, { message, origin: "route", delivery: span }, run, (a) => a.record) : run();
  };

  if (delivery.kind === "single") {
    const answer = await item(delivery.message);
    if (answer.status === NON_RETRYABLE) return nonRetryable(String(answer.body.error), withoutError(answer.body));
    return json(answer.status, answer.body);
  }

  // A batch: every refresh runs (a bounded number at a time), each under its own lock token. Those that
  // can never succeed are dropped alone; if any failed in a way worth retrying, the answer is 5xx, and
  // QStash's retry skips the refreshes already done (their completion is marked per lock token).
  const runAll = (span: SpanRef) =>
    mapLimited(delivery.items, batchConcurrency, async (it): Promise<ItemAnswer> => {
      if (it.ok) return item(it.message, span);
      // Malformed: its lock cannot be told for sure, and expires after its refreshTimeout.
      const error = `Not a next-cacheback refresh message: ${it.problem}`;
      return { status: NON_RETRYABLE, body: { ok: false, job: it.job, error }, record: { outcome: "dropped", error } };
    });
  const messages = delivery.items.flatMap((it) => (it.ok ? [it.message] : []));
  const answers = await (tel ? tel.delivery(cb.queue.name, messages, runAll, (all) => all.some((a) => a.status >= 500)) : runAll(null));
  const retry = answers.find((a) => a.status >= 500);
  const results = answers.map((a) => ({ code: a.status, ...a.body }));
  const dropped = answers.filter((a) => a.status === NON_RETRYABLE).length;
  if (dropped > 0) console.warn(`[next-cacheback] refresh route: ${dropped} of ${answers.length} refreshes of a batch can never succeed and were dropped: ${answers.filter((a) => a.status === NON_RETRYABLE).map((a) => a.body.error).join("; ")}`);
  if (retry) return json(retry.status, { ok: false, retry: true, results });
  return json(200, { ok: true, results });
}
