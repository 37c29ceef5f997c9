"use server";

import { cacheback } from "next-cacheback";
import { refresh } from "next/cache";
import { quote } from "@/lib/jobs";
import { lifetimeSeconds } from "@/lib/settings";
import { isSymbol } from "@/lib/source";

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
