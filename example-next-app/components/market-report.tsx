import { cacheLife, cacheTag } from "next/cache";
import { computeReport, REPORT_TAG } from "@/lib/report";

/**
 * The market report, cached by Next.js with `'use cache: remote'`: `next.config.mjs` names
 * next-cacheback's cache handler as the `remote` handler, so the entry lives in Upstash Redis and every
 * instance of the app serves the same one. Computed once, wherever it is first needed.
 *
 * - `revalidateTag("report", "max")`: every instance still serves this report, and exactly one of them
 *   (the one that wins a lock in Redis) computes the next one in the background.
 * - `updateTag("report")` (in a server action): expired at once; the action's own re-render computes it.
 * - Redis down: each request computes the report afresh, after at most the read timeout; the page stays up.
 */
export async function MarketReport() {
  "use cache: remote";
  cacheLife("hours");
  cacheTag(REPORT_TAG);
  const report = await computeReport();
  return (
    <section className="panel" data-testid="report">
      <h2>Market report</h2>
      <ol className="ranking" data-testid="report-ranking">
        {report.ranking.map((symbol) => (
          <li key={symbol}>{symbol}</li>
        ))}
      </ol>
      <dl className="facts">
        <dt>Computed by</dt>
        <dd data-testid="report-computed-by">{report.computedBy}</dd>
        <dt>Its computation</dt>
        <dd data-testid="report-computation">#{report.computation}</dd>
        <dt>Computed at</dt>
        <dd data-testid="report-computed-at">{report.computedAt}</dd>
      </dl>
    </section>
  );
}
