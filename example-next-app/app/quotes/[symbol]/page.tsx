import { notFound } from "next/navigation";
import { connection } from "next/server";
import Link from "next/link";
import { invalidateQuote, saveQuoteNote } from "@/app/actions";
import { AutoRefresh } from "@/components/auto-refresh";
import { CachedPanel } from "@/components/cached-panel";
import { quote } from "@/lib/jobs";
import { isSymbol, NOTE_MAX_LENGTH } from "@/lib/source";

/** One page per symbol: the `quote` job called with the symbol from the URL. */
export default async function QuotePage({ params }: { params: Promise<{ symbol: string }> }) {
  // Read at request time, never at build: without this the page could be prerendered with frozen data.
  await connection();
  const symbol = (await params).symbol.toUpperCase();
  if (!isSymbol(symbol)) notFound();

  const started = performance.now();
  const read = await quote.withStatus(symbol);
  const readMs = Math.round(performance.now() - started);
  const renderedAt = new Date().toISOString();

  return (
    <main>
      <p>
        <Link href="/">← All symbols</Link>
      </p>
      <h1>{symbol}</h1>
      <CachedPanel
        title="Latest quote"
        testId="quote"
        read={read}
        fetchedAt={read.value.fetchedAt}
        readMs={readMs}
        actions={
          <form action={invalidateQuote}>
            <input type="hidden" name="symbol" value={symbol} />
            <button type="submit" data-testid="invalidate">
              Invalidate this quote
            </button>
          </form>
        }
      >
        <span className="price" data-testid="price">
          ${read.value.price.toFixed(2)}
        </span>{" "}
        <span className="version" data-testid="version">
          version {read.value.version}
        </span>
        <p className="note" data-testid="note">
          {read.value.note ? read.value.note : <em>No note yet.</em>}
        </p>
      </CachedPanel>
      <section className="panel">
        <h2>Note</h2>
        {/* The note lives in the source; saving it expires this quote's tag, so the re-render shows it at once. */}
        <form action={saveQuoteNote} className="note-form">
          <input type="hidden" name="symbol" value={symbol} />
          <input
            type="text"
            name="note"
            aria-label="Note"
            data-testid="note-input"
            maxLength={NOTE_MAX_LENGTH}
            defaultValue={read.value.note ?? ""}
            placeholder="What about this quote?"
          />{" "}
          <button type="submit" data-testid="save-note">
            Save the note
          </button>
        </form>
      </section>
      <p>
        <Link href={`/quotes/${symbol}/snapshot`}>The same quote in a component under &apos;use cache&apos;</Link> ·{" "}
        <Link href="/quotes">Every quote</Link>
      </p>
      <AutoRefresh active={read.refreshScheduled} renderedAt={renderedAt} />
      <p className="rendered" data-testid="rendered-at">
        Rendered at {renderedAt}
      </p>
    </main>
  );
}
