import Link from "next/link";
import { notFound } from "next/navigation";
import { connection } from "next/server";
import { fetchQuote, isSymbol } from "@/lib/source";

/**
 * The same quote without the cache: every request calls the slow source and waits for it. The baseline of
 * the end-to-end benchmark (`npm run bench`), next to `/quotes/<symbol>` served fresh and stale.
 */
export default async function UncachedQuotePage({ params }: { params: Promise<{ symbol: string }> }) {
  await connection();
  const symbol = (await params).symbol.toUpperCase();
  if (!isSymbol(symbol)) notFound();

  const started = performance.now();
  const quote = await fetchQuote(symbol);
  const readMs = Math.round(performance.now() - started);

  return (
    <main>
      <p>
        <Link href={`/quotes/${symbol}`}>← {symbol} through the cache</Link>
      </p>
      <h1>{symbol}, uncached</h1>
      <section className="panel">
        <span className="price" data-testid="price">
          ${quote.price.toFixed(2)}
        </span>{" "}
        <span className="version" data-testid="version">
          version {quote.version}
        </span>
        <p className="facts">Fetched from the slow source during this request, in {readMs} ms.</p>
      </section>
    </main>
  );
}
