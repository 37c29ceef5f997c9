/**
 * Runs work after the response: inside Next.js `after()` when a request is in scope, otherwise as a
 * detached promise whose rejection is caught (a script, a test, the build). Either way the caller gets
 * a promise it can hand to `waitUntil`.
 */
import { insideNext } from "./runtime.js";

type After = (task: () => unknown) => void;

let afterFn: After | null | undefined;
let loading: Promise<After | null> | undefined;

// `next` has no exports map, so plain Node ESM needs the file name: `next/server.js`. Outside a Next.js
// server there is no request scope for `after()`, so the module is not loaded there: in a script or a
// test runner it would only cost start-up time.
function loadAfter(): Promise<After | null> {
  if (!insideNext()) return Promise.resolve((afterFn = null));
  loading ??= import("next/server.js").then(
    (mod) => (afterFn = typeof mod.after === "function" ? (mod.after as After) : null),
    () => (afterFn = null),
  );
  return loading;
}

/** Hands `task` to `after()` when possible; never rejects. */
export async function runInBackground(task: () => Promise<unknown>): Promise<void> {
  const after = afterFn === undefined ? await loadAfter() : afterFn;
  let done!: () => void;
  const settled = new Promise<void>((resolve) => (done = resolve));
  const run = async () => {
    try {
      await task();
    } catch {
      // The task reports its own failures; nothing may escape as an unhandled rejection.
    } finally {
      done();
    }
  };
  if (after) {
    try {
      after(run);
      return settled;
    } catch {
      // Outside a request scope (a script, the build, a test): run it detached instead.
    }
  }
  void run();
  return settled;
}
