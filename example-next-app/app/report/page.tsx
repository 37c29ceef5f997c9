import Link from "next/link";
import { connection } from "next/server";
import { Suspense } from "react";
import { revalidateReport, updateReport } from "@/app/actions";
import { MarketReport } from "@/components/market-report";
import { instanceName } from "@/lib/report";

/**
 * `/report`: a component under `'use cache: remote'`, stored in Redis by next-cacheback's cache handler and
 * shared by every instance. The heading and the buttons are the static shell; the report is rendered per
 * request, inside `<Suspense>` and after `connection()`. Without that, `next build` would prerender the
 * report into each instance's shell, and no request would ever reach the cache handler.
 */
export default function ReportPage() {
  return (
    <main>
      <p>
        <Link href="/">← Home</Link>
      </p>
      <h1>Market report</h1>
      <p className="intro">
        A slow computation cached by Next.js with <code>&apos;use cache: remote&apos;</code>. Its entry lives in Redis,
        so every instance of the app serves the one report; it carries the tag <code>report</code>.
      </p>
      <Suspense
        fallback={
          <p className="hint" data-testid="report-loading">
            Loading the report…
          </p>
        }
      >
        <LiveReport />
      </Suspense>
      <section className="panel">
        <h2>Invalidate it</h2>
        <form action={revalidateReport}>
          <button type="submit" data-testid="revalidate-report">
            revalidateTag(&quot;report&quot;, &quot;max&quot;)
          </button>{" "}
          <span className="explanation">still served once; one instance computes the next report in the background</span>
        </form>
        <form action={updateReport}>
          <button type="submit" data-testid="update-report">
            updateTag(&quot;report&quot;)
          </button>{" "}
          <span className="explanation">expired now: this page, re-rendered by the action, computes a new report</span>
        </form>
      </section>
    </main>
  );
}

async function LiveReport() {
  await connection();
  return (
    <>
      <MarketReport />
      <p className="rendered" data-testid="served-by">
        Served by {instanceName()} at {new Date().toISOString()}.
      </p>
    </>
  );
}
