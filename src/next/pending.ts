/**
 * What next-cacheback itself did about a tag just before it asked Next.js to revalidate it, so that the
 * cache handler (`next-cacheback/cache-handler`), which Next.js then calls with the same tags, does not
 * write the same stamps again, and writes only the pages' stamp when only the pages are concerned. The
 * handler runs in the same process but is loaded apart from the app's bundle, so the notes live on
 * `globalThis`. Each note lasts {@link PENDING_MS}: Next.js calls the handler once or twice, at the latest
 * right after the response.
 */

/** `stale` / `expire`: next-cacheback already stamped the tag so; `pages`: only the pages need a stamp. */
export type PendingKind = "stale" | "expire" | "pages";

/** How long a note holds, in ms. */
export const PENDING_MS = 30_000;

const SLOT = Symbol.for("next-cacheback.pending-next-invalidations");

function notes(): Map<string, { kind: PendingKind; until: number }> {
  const g = globalThis as unknown as Record<symbol, Map<string, { kind: PendingKind; until: number }> | undefined>;
  return (g[SLOT] ??= new Map());
}

/** Notes that next-cacheback is about to ask Next.js to revalidate `tags`, and why. */
export function notePending(tags: readonly string[], kind: PendingKind, now = Date.now()): void {
  const map = notes();
  for (const [tag, note] of map) if (note.until <= now) map.delete(tag);
  for (const tag of tags) map.set(tag, { kind, until: now + PENDING_MS });
}

/** What next-cacheback noted about `tag` in the last {@link PENDING_MS}, if anything. */
export function pendingFor(tag: string, now = Date.now()): PendingKind | undefined {
  const note = notes().get(tag);
  return note && note.until > now ? note.kind : undefined;
}
