import type { EntryKeys } from "../keys.js";
import type { TraceCarrier } from "../message.js";
import type { FetchOptions, ResolvedRefreshOptions } from "../options.js";

/** The `background` of a read with nothing left to do. */
export const SETTLED: Promise<void> = Promise.resolve();

/** One entry to refresh in the background. */
export interface RefreshRequest {
  keys: EntryKeys;
  job: string;
  args: readonly unknown[];
  options: ResolvedRefreshOptions;
  /** The entry's tags (encoded); empty when it has none. */
  tags: readonly string[];
  /** The reader's fetcher, to refresh in this process when the queue fails (absent: the refresh waits). */
  fn?: (...args: never[]) => unknown;
  /** The reader's options (serializer, tags), for a refresh run in this process. */
  readOptions?: FetchOptions<unknown>;
  /** The trace context of the read (or the call) that asked for it, when tracing is on. */
  trace?: TraceCarrier;
}

/** Why a refresh is queued (reported in `refresh-queued` events). */
export type RefreshReason = "stale" | "miss" | "invalidate";

/** A refresh whose lock this process holds, on its way to the queue (or to this process). */
export interface Dispatch {
  request: RefreshRequest;
  /** The lock token. */
  token: string;
  queuedAt: number;
  reason: RefreshReason;
}
