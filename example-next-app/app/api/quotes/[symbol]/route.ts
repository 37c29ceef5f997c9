import { quote } from "@/lib/jobs";
import { isSymbol } from "@/lib/source";

/**
 * A route handler that reads through the cache: `GET /api/quotes/ACME` answers the quote and how this
 * read was served. Route handlers run at request time (GET handlers are not cached by default).
 */
export async function GET(_request: Request, { params }: { params: Promise<{ symbol: string }> }): Promise<Response> {
  const symbol = (await params).symbol.toUpperCase();
  if (!isSymbol(symbol)) {
    return Response.json({ error: `"${symbol}" is not a ticker symbol` }, { status: 400 });
  }
  const started = performance.now();
  const result = await quote.withStatus(symbol);
  return Response.json(
    {
      symbol,
      value: result.value,
      status: result.status,
      syncFetch: result.syncFetch,
      age: result.age,
      refreshScheduled: result.refreshScheduled,
      readMs: Math.round(performance.now() - started),
    },
    { headers: { "cache-control": "no-store" } },
  );
}
