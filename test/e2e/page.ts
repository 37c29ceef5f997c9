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

/** The HTML of the `<section>` carrying `data-testid="<id>"` (a `CachedPanel`, a snapshot, a report), or `undefined`. */
export function sectionOf(html: string, id: string): string | undefined {
  return new RegExp(`<section[^>]*data-testid="${id}"[^>]*>[\\s\\S]*?</section>`).exec(html)?.[0];
}

/** The number in a `version <n>` text, or `undefined`. */
export function versionIn(text: string | undefined): number | undefined {
  const version = text?.match(/version (\d+)/)?.[1];
  return version === undefined ? undefined : Number(version);
}

/** What one `CachedPanel` shows: its badge, price, version and note. */
export interface PanelView {
  status: string | undefined;
  label: string | undefined;
  price: string | undefined;
  version: number | undefined;
  note: string | undefined;
}

/** Reads the `CachedPanel` carrying `data-testid="<id>"`; `undefined` when the page has none. */
export function panelOf(html: string, id: string): PanelView | undefined {
  const section = sectionOf(html, id);
  if (section === undefined) return undefined;
  return {
    ...statusOf(section),
    price: textOf(section, "price"),
    version: versionIn(textOf(section, "version")),
    note: textOf(section, "note"),
  };
}

function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/**
 * Submits the form that holds the button `data-testid="<buttonId>"` the way a browser without JavaScript
 * does: a multipart POST to the page with the form's inputs (a server action's form carries its action id as
 * a hidden input), `fields` on top, and the page's own `Origin`. Next.js runs the action, then answers with
 * the page it re-renders: what the action's own request shows.
 */
export async function submitForm(
  origin: string,
  path: string,
  html: string,
  buttonId: string,
  fields: Record<string, string> = {},
): Promise<{ httpStatus: number; html: string }> {
  const button = html.indexOf(`data-testid="${buttonId}"`);
  if (button < 0) throw new Error(`no button data-testid="${buttonId}" on ${path}`);
  const start = html.lastIndexOf("<form", button);
  if (start < 0) throw new Error(`the button data-testid="${buttonId}" on ${path} is not in a form`);
  const form = new FormData();
  for (const [input] of html.slice(start, button).matchAll(/<input\b[^>]*>/g)) {
    const name = /\bname="([^"]*)"/.exec(input)?.[1];
    if (name === undefined) continue;
    form.append(decodeEntities(name), decodeEntities(/\bvalue="([^"]*)"/.exec(input)?.[1] ?? ""));
  }
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  const response = await fetch(`${origin}${path}`, { method: "POST", body: form, headers: { origin } });
  return { httpStatus: response.status, html: await response.text() };
}
