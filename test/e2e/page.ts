/** Reading what the example's pages show, from their server-rendered HTML. */

/** The text inside the first element carrying `data-testid="<id>"` (tags and React's `<!-- -->` markers removed). */
export function textOf(html: string, id: string): string | undefined {
  const match = new RegExp(`data-testid="${id}"[^>]*>([\\s\\S]*?)</(?:span|dd|p|div|section)>`).exec(html);
  if (!match) return undefined;
  return (match[1] as string)
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<[^>]+>/g, "")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

/** The badge's `data-status` (`hit` / `stale` / `miss`) and its label. */
export function statusOf(html: string): { status: string | undefined; label: string | undefined } {
  const status = /data-testid="cache-status" data-status="([a-z]+)"/.exec(html)?.[1];
  return { status, label: textOf(html, "cache-status") };
}

/** What a quote page shows: the badge, the price, the version and when the value was fetched. */
export interface QuotePageView {
  httpStatus: number;
  /** Milliseconds from sending the request to the end of the body. */
  elapsedMs: number;
  status: string | undefined;
  label: string | undefined;
  price: string | undefined;
  version: number | undefined;
  fetchedAt: string | undefined;
  html: string;
}

/** Loads `/quotes/<symbol>` and reads what it shows. */
export async function loadQuotePage(origin: string, symbol: string): Promise<QuotePageView> {
  const started = performance.now();
  const response = await fetch(`${origin}/quotes/${symbol}`);
  const html = await response.text();
  const elapsedMs = performance.now() - started;
  const version = textOf(html, "version")?.match(/version (\d+)/)?.[1];
  return {
    httpStatus: response.status,
    elapsedMs,
    ...statusOf(html),
    price: textOf(html, "price"),
    version: version === undefined ? undefined : Number(version),
    fetchedAt: textOf(html, "fetched-at"),
    html,
  };
}
