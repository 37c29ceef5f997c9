/**
 * The Suspense fallback of every page below the root layout. The pages read the cache at request time
 * (`await connection()`), and with `cacheComponents` that must happen inside `<Suspense>`: this file is that
 * boundary. The layout streams at once, this fallback shows while the page reads (only a miss is slow).
 */
export default function Loading() {
  return (
    <main>
      <p className="hint" data-testid="loading">
        Loading…
      </p>
    </main>
  );
}
