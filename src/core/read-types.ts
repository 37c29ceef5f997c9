import type { Deadlines } from "../deadlines.js";
import type { EntryKeys } from "../keys.js";
import type { FetchOptions, ResolvedRefreshOptions } from "../options.js";
import type { Serializer } from "../serializer.js";
import type { SpanRef } from "../telemetry/types.js";
import type { CoreContext } from "./context.js";
import type { MemorySettings } from "./memory-tier.js";
import type { KeyCache } from "./key-cache.js";
import type { Plans } from "./plan.js";
import type { RefreshScheduler } from "./scheduler.js";
import type { Fetcher, SyncFetcher } from "./sync-fetch.js";

/** What the read path works with. */
export interface ReadDeps {
  ctx: CoreContext;
  /** Made with the first refresh asked for (`schedulerOf`): the scheduling code loads with it, not with hits. */
  scheduler?: RefreshScheduler;
  sync: () => Promise<SyncFetcher>;
  /** Plans of frozen option objects (a job's), so a job's reads resolve their options once. */
  plans: Plans;
  /** The keys read recently, taken apart and with their Redis keys. */
  keys: KeyCache;
  /** The read timeout, without a timer made per read. */
  deadlines: Deadlines;
}

/** What the lean path hands on when the store failed or timed out. */
export const FAILED: unique symbol = Symbol("store failed");

/** One read in progress: what every phase of it needs. */
export interface Read<T> {
  deps: ReadDeps;
  keys: EntryKeys;
  name: string;
  args: unknown[];
  fn: Fetcher;
  options: FetchOptions<T>;
  opts: ResolvedRefreshOptions;
  tags: readonly string[];
  memory: MemorySettings | undefined;
  serializer: Serializer<T>;
  /** The read's span, when tracing is on (the refresh it queues carries its trace context). */
  span: SpanRef | undefined;
}
