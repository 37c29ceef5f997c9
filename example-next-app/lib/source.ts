import { failingSymbols, sourceDelayMs } from "./settings";

/**
 * A deliberately slow, local data source: every call waits `EXAMPLE_SOURCE_DELAY_MS` and returns a new
 * version of the data. It stands for a slow API or database; nothing leaves the machine.
 */

/** A price quote as the source returns it. */
export interface Quote {
  symbol: string;
  /** The price, in dollars. */
  price: number;
  /** How many times the source produced this symbol's quote in this server process (1, 2, 3...). */
  version: number;
  /** When the source produced it (ISO 8601). */
  fetchedAt: string;
  /** The note a person wrote about the symbol (empty when none), as the source had it at that moment. */
  note: string;
}

/** The headline of the day. */
export interface Headline {
  text: string;
  version: number;
  fetchedAt: string;
}

/** The symbols people look at most. */
export interface Trending {
  symbols: string[];
  version: number;
  fetchedAt: string;
}

/** Thrown by the source for a symbol listed in `EXAMPLE_FAILING_SYMBOLS`. */
export class SourceUnavailableError extends Error {
  override name = "SourceUnavailableError";
}

// Pages and route handlers are bundled separately by Next.js, each with its own copy of this module:
// the counters live on globalThis so they are shared by the whole server process.
const COUNTERS = Symbol.for("next-cacheback-example.source-counters");
function nextVersion(key: string): number {
  const g = globalThis as unknown as Record<symbol, Map<string, number> | undefined>;
  const counters = (g[COUNTERS] ??= new Map<string, number>());
  const version = (counters.get(key) ?? 0) + 1;
  counters.set(key, version);
  return version;
}

function slow(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, sourceDelayMs()));
}

// The notes people write about a symbol (the note form on its page). The source owns them, as a database
// would, and `fetchQuote` returns them with the quote: an edit reaches the page only once the cached quote
// is invalidated (the form's server action calls `cacheback.updateTag`). Kept in this server process.
const NOTES = Symbol.for("next-cacheback-example.notes");
function notes(): Map<string, string> {
  const g = globalThis as unknown as Record<symbol, Map<string, string> | undefined>;
  return (g[NOTES] ??= new Map<string, string>());
}

/** The longest note the source keeps, in characters. */
export const NOTE_MAX_LENGTH = 200;

/** The note about `symbol`, or `""`. */
export function noteFor(symbol: string): string {
  return notes().get(symbol) ?? "";
}

/** Saves the note about `symbol` (trimmed, at most {@link NOTE_MAX_LENGTH} characters; empty removes it). */
export function saveNote(symbol: string, note: string): void {
  const text = note.trim().slice(0, NOTE_MAX_LENGTH);
  if (text === "") notes().delete(symbol);
  else notes().set(symbol, text);
}

/** The symbols the example knows about. */
export const SYMBOLS = ["ACME", "GLOBEX", "INITECH", "UMBRELLA"] as const;

/** Whether `symbol` looks like a ticker (1 to 12 capital letters or digits). */
export function isSymbol(symbol: string): boolean {
  return /^[A-Z0-9]{1,12}$/.test(symbol);
}

/** Fetches a quote, slowly. */
export async function fetchQuote(symbol: string): Promise<Quote> {
  if (failingSymbols().has(symbol)) {
    throw new SourceUnavailableError(`the quote source is down for ${symbol}`);
  }
  await slow();
  const version = nextVersion(`quote:${symbol}`);
  let seed = 0;
  for (const char of symbol) seed = (seed * 31 + char.charCodeAt(0)) % 1000;
  const price = Math.round((50 + seed / 10 + version * 1.25 + Math.random()) * 100) / 100;
  return { symbol, price, version, fetchedAt: new Date().toISOString(), note: noteFor(symbol) };
}

const HEADLINES = [
  "Markets wait for a slow API, readers do not",
  "Stale data served in milliseconds, fresh data a moment later",
  "One refresh for a thousand readers",
  "The cache refilled itself while nobody waited",
];

/** Fetches the headline of the day, slowly. */
export async function fetchHeadline(): Promise<Headline> {
  await slow();
  const version = nextVersion("headline");
  return { text: HEADLINES[(version - 1) % HEADLINES.length] as string, version, fetchedAt: new Date().toISOString() };
}

/** Fetches the trending symbols, slowly. */
export async function fetchTrending(): Promise<Trending> {
  await slow();
  const version = nextVersion("trending");
  const symbols = [...SYMBOLS];
  const shift = version % symbols.length;
  return { symbols: [...symbols.slice(shift), ...symbols.slice(0, shift)], version, fetchedAt: new Date().toISOString() };
}
