import Link from "next/link";
import { connection } from "next/server";
import { revalidateQuotes } from "@/app/actions";
import { AutoRefresh } from "@/components/auto-refresh";
import { CachedPanel } from "@/components/cached-panel";
import { quote, QUOTES_TAG } from "@/lib/jobs";
import { SYMBOLS } from "@/lib/source";

/**
 * Every quote on one page. Each entry carries the tag `quotes`: the button revalidates that tag, and the
 * list turns stale at once (old values, served), then fresh as the refreshes land, one per entry.
 */
export default async function QuotesPage() {
  // Read at request time, never at build (the root loading.tsx is the Suspense boundary this needs).
  await connection();
  const reads = await Promise.all(
    SYMBOLS.map(async (symbol) => {
      const started = performance.now();
      const read = await quote.withStatus(symbol);
      return { symbol, read, readMs: Math.round(performance.now() - started) };
    }),
  );
  const renderedAt = new Date().toISOString();

  return (
    <main>
      <p>
        <Link href="/">← Home</Link>
      </p>
      <h1>Every quote</h1>
      <p className="intro">
        Each quote below is its own cache entry, and every one carries the tag <code>{QUOTES_TAG}</code>.
        Revalidating the tag makes them all stale in one Redis round trip: they are still served, and each is
        refreshed once in the background.
      </p>
      <form action={revalidateQuotes}>
        <button type="submit" data-testid="revalidate-quotes">
          Revalidate the tag “{QUOTES_TAG}”
        </button>
      </form>
      {reads.map(({ symbol, read, readMs }) => (
        <CachedPanel key={symbol} title={symbol} testId={`quote-${symbol}`} read={read} fetchedAt={read.value.fetchedAt} readMs={readMs}>
          <Link href={`/quotes/${symbol}`}>
            <span className="price" data-testid="price">
              ${read.value.price.toFixed(2)}
            </span>
          </Link>{" "}
          <span className="version" data-testid="version">
            version {read.value.version}
          </span>
          {read.value.note ? (
            <p className="note" data-testid="note">
              {read.value.note}
            </p>
          ) : null}
        </CachedPanel>
      ))}
      <AutoRefresh active={reads.some(({ read }) => read.refreshScheduled)} renderedAt={renderedAt} />
      <p className="rendered" data-testid="rendered-at">
        Rendered at {renderedAt}
      </p>
    </main>
  );
}
