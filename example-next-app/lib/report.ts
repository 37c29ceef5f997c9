import { sourceDelayMs } from "./settings";
import { SYMBOLS } from "./source";

/**
 * The market report: a slow computation whose result Next.js caches with `'use cache: remote'`, through
 * next-cacheback's cache handler, in Redis, for every instance of the app. Each computation is counted in
 * the process that ran it, so you can see which instance computed what (and `GET /api/report` says how many
 * times this one did).
 */

/** The tag the report's cache entry carries (`cacheTag`). */
export const REPORT_TAG = "report";

/** One computation of the report. */
export interface Report {
  /** The symbols, ranked. */
  ranking: string[];
  /** Which server process computed it. */
  computedBy: string;
  /** How many times that process had computed the report, this one included. */
  computation: number;
  /** When it was computed (ISO 8601). */
  computedAt: string;
}

// Route handlers and pages are bundled apart, each with its own copy of this module: the count lives on
// globalThis, shared by the whole server process.
const COUNT = Symbol.for("next-cacheback-example.report-computations");
function counter(): { count: number } {
  const g = globalThis as unknown as Record<symbol, { count: number } | undefined>;
  return (g[COUNT] ??= { count: 0 });
}

/** This server process, as the pages name it. */
export function instanceName(): string {
  return `process ${process.pid}`;
}

/** How many times this process has computed the report. */
export function reportComputations(): number {
  return counter().count;
}

/** Computes the report, slowly (`EXAMPLE_SOURCE_DELAY_MS`). */
export async function computeReport(): Promise<Report> {
  const computation = ++counter().count;
  await new Promise((resolve) => setTimeout(resolve, sourceDelayMs()));
  const shift = computation % SYMBOLS.length;
  return {
    ranking: [...SYMBOLS.slice(shift), ...SYMBOLS.slice(0, shift)],
    computedBy: instanceName(),
    computation,
    computedAt: new Date().toISOString(),
  };
}
