/** One comparison's part of RESULTS.md. */
export interface Section {
  /** The heading, e.g. "1. Hit cost". */
  title: string;
  /** Markdown: what was measured and how, the tables, and what they say. */
  body: string;
}

/** A Markdown table; numbers are right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number" || /^[-+]?[\d.,]+( ?[a-zA-Zµ%×/]+)?$/.test(String(r[i]))));
  const line = (cells: readonly (string | number)[]) => `| ${cells.map((c) => String(c)).join(" | ")} |`;
  return [line(headers), `|${numeric.map((n) => (n ? " ---: " : " --- ")).join("|")}|`, ...rows.map(line)].join("\n");
}

/** Formats a ratio as `0.97×`. */
export function ratio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : "n/a";
}

/** Formats a count of operations per second. */
export function perSec(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a";
}

/** Formats milliseconds. */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return "n/a";
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}
