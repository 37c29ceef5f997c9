import Link from "next/link";
import { cachebackFetchWithStatus } from "next-cacheback";
import { connection } from "next/server";
import { invalidateHeadline } from "@/app/actions";
import { AutoRefresh } from "@/components/auto-refresh";
import { CachedPanel } from "@/components/cached-panel";
import { trending } from "@/lib/jobs";
import { lifetimeSeconds } from "@/lib/settings";
import { fetchHeadline, SYMBOLS } from "@/lib/source";

async function timed<T>(read: Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await read;
  return [value, Math.round(performance.now() - started)];
}

export default async function HomePage() {
  // Read at request time, never at build: without this the page could be prerendered with frozen data.
  await connection();
  const [[headline, headlineMs], [popular, popularMs]] = await Promise.all([
    // A plain key read through the cache; the refresh route knows "headline" by name.
    timed(cachebackFetchWithStatus("headline", fetchHeadline, { lifetime: lifetimeSeconds() })),
    // A job with fetchOnMiss: false: a cold read returns null at once and fills the cache in the background.
    timed(trending.withStatus()),
  ]);
  const renderedAt = new Date().toISOString();

  return (
    <main>
      <h1>next-cacheback example</h1>
      <p className="intro">
        Every value below comes from a deliberately slow source. The first read waits for it; after that the cache answers at once,
        even when the value is stale, and a background refresh (through <code>/api/cacheback</code>) brings the new value.
      </p>
      <CachedPanel
        title="Headline"
        testId="headline"
        read={headline}
        fetchedAt={headline.value.fetchedAt}
        readMs={headlineMs}
        actions={
          <form action={invalidateHeadline}>
            <button type="submit">Invalidate the headline</button>
          </form>
        }
      >
        {headline.value.text} <span className="version">(version {headline.value.version})</span>
      </CachedPanel>
      <CachedPanel title="Trending" testId="trending" read={popular} fetchedAt={popular.value?.fetchedAt ?? null} readMs={popularMs}>
        {popular.value ? popular.value.symbols.join(" · ") : <em>Warming up: the list is being fetched in the background.</em>}
      </CachedPanel>
      <section className="panel">
        <h2>Quotes</h2>
        <ul className="symbols">
          {SYMBOLS.map((symbol) => (
            <li key={symbol}>
              <Link href={`/quotes/${symbol}`}>{symbol}</Link>
            </li>
          ))}
        </ul>
        <p>
          All of them on one page, with their shared tag: <Link href="/quotes">/quotes</Link>. As JSON, through a route
          handler: <a href="/api/quotes/ACME">/api/quotes/ACME</a>
        </p>
      </section>
      <section className="panel">
        <h2>Next.js&apos;s own cache</h2>
        <ul>
          <li>
            <Link href="/quotes/ACME/snapshot">A quote in a component under &apos;use cache&apos;</Link>, tagged by next-cacheback
          </li>
          <li>
            <Link href="/report">The market report</Link>, under &apos;use cache: remote&apos;: stored in Redis by next-cacheback&apos;s
            cache handler, shared by every instance
          </li>
        </ul>
      </section>
      <AutoRefresh active={headline.refreshScheduled || popular.refreshScheduled} renderedAt={renderedAt} />
    </main>
  );
}
