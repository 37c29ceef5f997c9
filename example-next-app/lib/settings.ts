/**
 * The example's knobs, read from the environment at request time (never inlined at build), so one
 * build serves the demo defaults and the short lifetimes of the end-to-end tests.
 */

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  }
  return value;
}

/** How long one fetch from the simulated slow source takes, in ms (`EXAMPLE_SOURCE_DELAY_MS`, default 2500). */
export function sourceDelayMs(): number {
  return numberFromEnv("EXAMPLE_SOURCE_DELAY_MS", 2500);
}

/** Seconds a cached value stays fresh (`EXAMPLE_LIFETIME`, default 10). */
export function lifetimeSeconds(): number {
  return numberFromEnv("EXAMPLE_LIFETIME", 10);
}

/**
 * Symbols for which the slow source fails, as if the upstream were down (`EXAMPLE_FAILING_SYMBOLS`,
 * comma-separated, default none). Only for showing what a failing refresh does; unset in a normal run.
 */
export function failingSymbols(): Set<string> {
  const raw = process.env.EXAMPLE_FAILING_SYMBOLS ?? "";
  return new Set(
    raw
      .split(",")
      .map((s) => s.trim().toUpperCase())
      .filter((s) => s.length > 0),
  );
}
