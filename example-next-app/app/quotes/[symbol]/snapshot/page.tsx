import Link from "next/link";
import { notFound } from "next/navigation";
import { connection } from "next/server";
import { Suspense } from "react";
import { QuoteSnapshot } from "@/components/quote-snapshot";
import { isSymbol } from "@/lib/source";

/**
 * `/quotes/<symbol>/snapshot`: the quote embedded in a component under `'use cache'`. The page itself renders
 * per request (the time below changes on every load); the snapshot comes from Next.js's cache and changes
 * only when its tags are revalidated.
 */
export default function SnapshotPage({ params }: { params: Promise<{ symbol: string }> }) {
  return (
    <main>
      <Suspense
        fallback={
          <p className="hint" data-testid="loading">
            Loading…
          </p>
        }
      >
        <Snapshot params={params} />
      </Suspense>
    </main>
  );
}

async function Snapshot({ params }: { params: Promise<{ symbol: string }> }) {
  const symbol = (await params).symbol.toUpperCase();
  if (!isSymbol(symbol)) notFound();
  // The time below is per request; the snapshot is not (it is cached until its tags are revalidated).
  await connection();
  const renderedAt = new Date().toISOString();
  return (
    <>
      <p>
        <Link href={`/quotes/${symbol}`}>← {symbol}, read per request</Link>
      </p>
      <h1>{symbol}, cached by Next.js</h1>
      <p className="intro">
        The component below is cached by Next.js (<code>&apos;use cache&apos;</code>). It reads the quote through
        next-cacheback, which tags it <code>quotes</code> and <code>quote:{symbol}</code>: when the refresh route
        writes a new quote, it revalidates those tags, and the snapshot follows within two requests.
      </p>
      <QuoteSnapshot symbol={symbol} />
      <p className="rendered" data-testid="rendered-at">
        Page rendered at {renderedAt}
      </p>
    </>
  );
}
