/**
 * A stand-in data source for fault tests: `quote(symbol)` returns `{ symbol, n }` where `n` counts the
 * calls for that symbol, so a test can tell how many times the source ran and which value it sees.
 */
export function countingQuote() {
  const calls = new Map<string, number>();
  const quote = async (symbol: string) => {
    const n = (calls.get(symbol) ?? 0) + 1;
    calls.set(symbol, n);
    return { symbol, n };
  };
  return { calls, quote };
}
