"use server";

import { cacheback } from "next-cacheback";
import { refresh, revalidateTag, updateTag } from "next/cache";
import { quote, QUOTES_TAG, quoteTag } from "@/lib/jobs";
import { REPORT_TAG } from "@/lib/report";
import { lifetimeSeconds } from "@/lib/settings";
import { isSymbol, saveNote } from "@/lib/source";

/**
 * Marks one symbol's quote stale and queues its refresh at once; readers keep getting the old value
 * until the new one is written. Then re-renders the page the button is on.
 */
export async function invalidateQuote(formData: FormData): Promise<void> {
  const symbol = String(formData.get("symbol") ?? "").toUpperCase();
  if (!isSymbol(symbol)) return;
  await quote.invalidate(symbol);
  refresh();
}

/** The same for the headline, a plain `cachebackFetch` key. */
export async function invalidateHeadline(): Promise<void> {
  await cacheback.invalidate("headline", { lifetime: lifetimeSeconds() });
  refresh();
}

/**
 * Saves a symbol's note in the source, then expires everything tagged `quote:<SYMBOL>`: next-cacheback's
 * entry (in every instance) and, through Next.js's `updateTag`, the `'use cache'` snapshot that embeds it.
 * The page this action re-renders reads its own write: its read of the quote is a miss and fetches the
 * quote with the new note, in this very request.
 */
export async function saveQuoteNote(formData: FormData): Promise<void> {
  const symbol = String(formData.get("symbol") ?? "").toUpperCase();
  if (!isSymbol(symbol)) return;
  saveNote(symbol, String(formData.get("note") ?? ""));
  await cacheback.updateTag(quoteTag(symbol));
}

/**
 * Makes every quote stale at once, by their shared tag: the list re-rendered by this action still shows
 * the old values (stale-while-revalidate) and queues one refresh per entry, all in one QStash message.
 * Through Next.js's `revalidateTag(tag, "max")` it also marks the `'use cache'` snapshots stale.
 */
export async function revalidateQuotes(): Promise<void> {
  await cacheback.revalidateTag(QUOTES_TAG);
  refresh();
}

/**
 * Stale-while-revalidate for the market report (`'use cache: remote'`, tag `report`): every instance keeps
 * serving the current report, and one of them computes the next one in the background.
 */
export async function revalidateReport(): Promise<void> {
  revalidateTag(REPORT_TAG, "max");
}

/** Expires the market report at once: this action's re-render computes a new one (read your own write). */
export async function updateReport(): Promise<void> {
  updateTag(REPORT_TAG);
}
