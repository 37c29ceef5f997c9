import { cacheLife } from "next/cache";
import { quote } from "@/lib/jobs";

/**
 * A symbol's quote in a component cached by Next.js itself (`'use cache'`, in this server's memory), next
 * to next-cacheback's own cache. The quote is read through next-cacheback inside the cached function, so
 * the entry's tags (`quotes`, `quote:<SYMBOL>`) are attached to this component's cache entry (`cacheTag`):
 *
 * - when the refresh route writes a new quote, it calls `revalidateTag(tag, "max")`: the next request
 *   still gets this snapshot (stale) while Next.js renders it again in the background, and the one after
 *   gets the new quote;
 * - `cacheback.updateTag("quote:ACME")` (the note form) expires it at once.
 *
 * Its own lifetime is long (`cacheLife("hours")`: regenerated in the background after an hour): it changes
 * when the data does, not on a timer.
 */
export async function QuoteSnapshot({ symbol }: { symbol: string }) {
  "use cache";
  cacheLife("hours");
  const value = await quote(symbol);
  const cachedAt = new Date().toISOString();
  return (
    <section className="panel" data-testid="snapshot">
      <h2>Snapshot under &apos;use cache&apos;</h2>
      <div className="value">
        <span className="price" data-testid="snapshot-price">
          ${value.price.toFixed(2)}
        </span>{" "}
        <span className="version" data-testid="snapshot-version">
          version {value.version}
        </span>
        {value.note ? (
          <p className="note" data-testid="snapshot-note">
            {value.note}
          </p>
        ) : null}
      </div>
      <dl className="facts">
        <dt>Fetched at</dt>
        <dd>{value.fetchedAt}</dd>
        <dt>Rendered into Next.js&apos;s cache at</dt>
        <dd data-testid="snapshot-cached-at">{cachedAt}</dd>
      </dl>
    </section>
  );
}
