/**
 * Tag stamps: what a tag invalidation leaves in the store, one small key per tag, and the pure decision
 * of what they do to an entry. No member sets: invalidating a tag costs the same whatever the number of
 * entries that carry it, and a reader compares the stamps of its entry's tags with the entry's version.
 *
 * A stamp is `[stale, expired, laterVersion, laterAt, pages]`, stored as that JSON array (stamps of the
 * first format have the first four only):
 * - `stale`: version of the last `revalidateTag`; an entry whose data is older is stale.
 * - `expired`: version of the last `updateTag`; an entry whose data is older is a miss.
 * - `laterVersion` / `laterAt`: a revalidation that also expires its entries at a wall-clock instant
 *   (`revalidateTag(tag, { expire })` in Next.js): entries older than `laterVersion` are a miss from
 *   `laterAt` (ms since the epoch) on.
 * - `pages`: version of the last revalidation of the pages that embed the tag's data, when only they are
 *   concerned (the refresh route wrote new data and tells Next.js's cache): cache-handler entries older
 *   than it are stale, next-cacheback's own entries are not.
 * Versions come from the store's shared clock, so they order events across instances whose clocks
 * disagree. 0 means "never".
 */

/** One tag's stamp, decoded. */
export interface TagStamp {
  stale: number;
  expired: number;
  laterVersion: number;
  laterAt: number;
  pages: number;
}

/** What a tag invalidation does to the entries that carry the tag. */
export type StampChange =
  /** Stale from now on: served, and refreshed in the background. */
  | { kind: "stale"; expireAt?: number }
  /** Expired from now on: the next read fetches. */
  | { kind: "expire" }
  /** Only the cached pages that embed the tag's data are stale from now on (see `pages`). */
  | { kind: "pages" };

/** What the stamps of an entry's tags make of it. */
export interface TagVerdict {
  kind: "stale" | "expired";
  /** The tag that decided it. */
  tag: string;
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** Decodes a stored stamp (the JSON text, or the array a client parsed it into); `null` when it is not one. */
export function parseStamp(raw: unknown): TagStamp | null {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (!Array.isArray(value) || (value.length !== 4 && value.length !== 5) || !value.every(isCount)) return null;
  const [stale, expired, laterVersion, laterAt, pages = 0] = value as number[];
  return { stale: stale!, expired: expired!, laterVersion: laterVersion!, laterAt: laterAt!, pages };
}

/** The stored text of a stamp. */
export function encodeStamp(stamp: TagStamp): string {
  return `[${stamp.stale},${stamp.expired},${stamp.laterVersion},${stamp.laterAt},${stamp.pages}]`;
}

/** The stamp after `change` at `version` (pure; the Redis script does the same). */
export function applyStampChange(current: TagStamp | null, change: StampChange, version: number): TagStamp {
  const stamp = current ?? { stale: 0, expired: 0, laterVersion: 0, laterAt: 0, pages: 0 };
  if (change.kind === "expire") return { ...stamp, expired: version };
  if (change.kind === "pages") return { ...stamp, pages: version };
  if (change.expireAt !== undefined) return { ...stamp, stale: version, laterVersion: version, laterAt: Math.trunc(change.expireAt) };
  return { ...stamp, stale: version };
}

/**
 * What the stamps do to an entry whose data has `version` (pure). Expired wins over stale; `undefined`
 * when no stamp touches it. `stamps[i]` belongs to `tags[i]`. With `pages`, the entry is a cached page
 * (a cache-handler entry), which the `pages` field makes stale too.
 */
export function tagVerdict(
  version: number,
  tags: readonly string[],
  stamps: readonly (TagStamp | null)[],
  nowMs: number,
  pages = false,
): TagVerdict | undefined {
  let stale: string | undefined;
  for (let i = 0; i < stamps.length; i++) {
    const stamp = stamps[i];
    if (!stamp) continue;
    const tag = tags[i] as string;
    if (stamp.expired > version || (stamp.laterVersion > version && stamp.laterAt <= nowMs)) return { kind: "expired", tag };
    if (stale === undefined && (stamp.stale > version || (pages && stamp.pages > version))) stale = tag;
  }
  return stale === undefined ? undefined : { kind: "stale", tag: stale };
}

/** The latest instant any of the stamps invalidated or expires its entries, in versions (for a cache handler). */
export function latestStamp(stamps: readonly (TagStamp | null)[]): number {
  let latest = 0;
  for (const s of stamps) if (s) latest = Math.max(latest, s.stale, s.expired);
  return latest;
}
