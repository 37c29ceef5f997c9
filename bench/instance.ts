/**
 * One "instance" of an app (a server, or a serverless function) for the multi-process comparisons. It
 * makes its own cache of the library it is told, reports ready, and on "go" runs its readers at once.
 *
 * - `stampede`: then waits to be told to end the run (in-process refreshes finish meanwhile); it closes its
 *   cache and waits for the next run, as a long-lived server would.
 * - `freeze`: exits as soon as its reads have returned, as a serverless function is frozen after its
 *   response. next-cacheback first awaits each read's `background` (what `waitUntil` guarantees: the lock
 *   and the publish, not the refresh); the peers exit at once.
 * - `freeze-waituntil`: like `freeze`, but the peers' background work is awaited too (cachified's and unkey's
 *   `waitUntil`), as a platform that honours `waitUntil` would keep the function alive for it.
 */
import { makeContender, type ContenderConfig, type Library } from "./lib/contenders.js";
import { summarize } from "./lib/measure.js";

/** What the parent sends first. */
export interface InstanceSetup {
  type: "setup";
  library: Library;
  config: ContenderConfig;
  key: string;
  /** A fresh key read once before reporting ready. */
  warmKey: string;
  readers: number;
  mode: "stampede" | "freeze" | "freeze-waituntil";
}

/** What an instance reports once its readers are done. */
export interface InstanceReport {
  type: "done";
  /** Reads by the value's origin: "seed" (stale served) or "origin" (fetched). */
  values: Record<string, number>;
  errors: number;
  firstError?: string;
  p50ms: number;
  p99ms: number;
  maxMs: number;
  /** How long the instance stayed up after its reads returned (awaiting background work), ms. */
  lingerMs: number;
}

type ParentMessage = InstanceSetup | { type: "go" } | { type: "end" } | { type: "exit" };

let setup: InstanceSetup | undefined;
let contender: ReturnType<typeof makeContender> | undefined;

function send(message: { type: "ready" | "ended" } | InstanceReport): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

async function go(): Promise<void> {
  const s = setup!;
  const c = contender!;
  const values: Record<string, number> = {};
  let errors = 0;
  let firstError: string | undefined;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: s.readers }, async () => {
      const t = performance.now();
      try {
        const { value } = await c.read(s.key);
        const from = String((value as { from?: unknown } | null)?.from ?? "none");
        values[from] = (values[from] ?? 0) + 1;
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      latencies.push(performance.now() - t);
    }),
  );
  const returned = performance.now();
  const awaitBackground = s.mode === "freeze-waituntil" || (s.mode === "freeze" && s.library === "next-cacheback");
  if (awaitBackground) await c.settle();
  const lingerMs = performance.now() - returned;
  await send({ type: "done", values, errors, ...(firstError ? { firstError } : {}), ...summarize(latencies), lingerMs });
  if (s.mode !== "stampede") process.exit(0);
}

process.on("message", (message: ParentMessage) => {
  if (message.type === "setup") {
    setup = message;
    const collectBackground = message.mode !== "stampede";
    contender = makeContender(message.library, { ...message.config, collectBackground });
    // A warm instance: connections open and code paths run once, on a key of its own that is fresh.
    void contender
      .read(message.warmKey)
      .then(() => send({ type: "ready" }))
      .catch((error: unknown) => {
        console.error(`instance warm-up failed: ${String(error)}`);
        process.exit(1);
      });
  } else if (message.type === "go") {
    void go();
  } else if (message.type === "end") {
    const closing = contender?.close() ?? Promise.resolve();
    contender = undefined;
    setup = undefined;
    void closing.finally(() => send({ type: "ended" }));
  } else {
    process.exit(0);
  }
});
