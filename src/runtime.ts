/**
 * Whether this code runs in a Next.js server: bundled by Next (which inlines `process.env.NEXT_RUNTIME`),
 * or loaded as an external package by a Next server process (which installs `globalThis.AsyncLocalStorage`).
 * Outside one (a script, a test runner, the bench) there is no request scope: no `after()`, no render
 * to memoise reads in.
 */
export function insideNext(): boolean {
  try {
    if (process.env.NEXT_RUNTIME) return true;
  } catch {
    // No `process` here.
  }
  return "AsyncLocalStorage" in globalThis;
}
