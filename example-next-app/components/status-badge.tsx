import type { CacheStatus } from "next-cacheback";

/** What a read reported about itself (the fields of `cachebackFetchWithStatus`'s result the badge needs). */
export interface ReadStatus {
  status: CacheStatus;
  syncFetch: boolean;
  refreshScheduled: boolean;
}

interface Described {
  label: string;
  tone: "fresh" | "stale" | "miss";
  explanation: string;
}

/** The words a person sees for the status of one read. */
export function describeStatus({ status, syncFetch, refreshScheduled }: ReadStatus): Described {
  if (status === "hit") {
    return { label: "fresh", tone: "fresh", explanation: "Served from the cache: the value is younger than its lifetime." };
  }
  if (status === "stale") {
    return syncFetch
      ? { label: "stale, fetched now", tone: "stale", explanation: "Too old to serve: fetched from the source during this request." }
      : {
          label: refreshScheduled ? "stale, refresh queued" : "stale",
          tone: "stale",
          explanation: "Served the cached value at once; a background refresh brings the new one.",
        };
  }
  return syncFetch
    ? { label: "miss", tone: "miss", explanation: "Nothing was cached: fetched from the slow source during this request." }
    : {
        label: "miss, refresh queued",
        tone: "miss",
        explanation: "Nothing is cached yet: nothing shown for now, the cache is filled in the background.",
      };
}

/** The cache status of this render: fresh / stale, refresh queued / miss. */
export function StatusBadge(props: ReadStatus) {
  const { label, tone, explanation } = describeStatus(props);
  return (
    <p className="status">
      <span className={`badge badge-${tone}`} data-testid="cache-status" data-status={props.status}>
        {label}
      </span>{" "}
      <span className="explanation">{explanation}</span>
    </p>
  );
}
