import { quantile } from "../lib/measure.js";

/** What the load generator saw in one phase of the run. */
export interface PhaseStats {
  name: string;
  /** What happened to the deployment during the phase. */
  fault: string;
  fromS: number;
  toS: number;
  /** Responses received (any status). */
  responses: number;
  /** Responses whose status was not 2xx. */
  non2xx: number;
  /** Requests that got no response (connection errors, timeouts). */
  errors: number;
  /** Response times, ms. */
  latencies: number[];
  /** Cache statuses reported by the API route's JSON. */
  byCacheStatus: Record<string, number>;
  /** Response times by cache status, ms. */
  latencyByCacheStatus: Record<string, number[]>;
  /** Responses whose value was not the symbol asked for (must stay 0). */
  wrongValues: number;
  /** Ages (s) of the hot keys' values the API route served stale: how long ago their data was taken. */
  hotStaleAges: number[];
  /**
   * Of the hot keys' values (symbol and version) first served stale in this phase, the longest time from
   * that first stale response to the last one, s: how long readers kept getting a value whose refresh was due.
   */
  longestStaleS: number;
}

/** A fresh {@link PhaseStats}. */
export function emptyPhase(name: string, fault: string, fromS: number, toS: number): PhaseStats {
  return { name, fault, fromS, toS, responses: 0, non2xx: 0, errors: 0, latencies: [], byCacheStatus: {}, latencyByCacheStatus: {}, wrongValues: 0, hotStaleAges: [], longestStaleS: 0 };
}

/** The p-th percentile (0-100) of `values`, nearest rank; `NaN` when empty. */
export function percentile(values: readonly number[], p: number): number {
  return quantile([...values].sort((a, b) => a - b), p / 100);
}

/** Formats milliseconds for the report. */
export function ms(value: number): string {
  if (Number.isNaN(value)) return "–";
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
}
