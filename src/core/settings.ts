import { CachebackOptionsError } from "../errors.js";
import { DEFAULT_REFRESH_OPTIONS, resolveRefreshOptions, type RefreshOptions, type ResolvedRefreshOptions } from "../options.js";
import type { SigningKeys } from "../queues/types.js";
import type { BackoffSettings } from "./breaker.js";
import type { MemorySettings } from "./memory-tier.js";
import type { TelemetryOption } from "../telemetry/types.js";
import type { VersionClock } from "../version-clock.js";

/**
 * Everything the core needs to know besides its store and its queue, resolved: no defaults left to fill
 * and nothing left to read from the environment (`setup/` does that, once).
 */
export interface CoreSettings {
  /** Prefix of every key the instance writes. */
  prefix: string;
  /** The instance defaults as given (per-call options are layered over them). */
  defaults: RefreshOptions | undefined;
  /** The instance's memory tier, resolved (`undefined`: off unless a read turns it on). */
  defaultMemory: MemorySettings | undefined;
  /** The instance defaults over the library defaults, checked. */
  resolvedDefaults: ResolvedRefreshOptions;
  /** Milliseconds a read waits on the store before it falls back to the fetcher. */
  readTimeoutMs: number;
  /** Milliseconds a background write, lock or publish may take. */
  backgroundTimeoutMs: number;
  /** The wall clock, ms since the epoch. */
  now: () => number;
  /**
   * The clock of a fresh hit's check: `now` when the configuration gives one, otherwise `Date.now` read
   * once per burst of reads (`burstClock`), as a clock read is a large part of a hit's own cost.
   */
  hitNow: () => number;
  /** Where write versions come from. */
  versions: VersionClock;
  /** Memoise store reads per request with React `cache()` (inside a Next.js server, where renders are). */
  requestMemo: boolean;
  /** Runs work that must not delay the response. */
  runInBackground: (task: () => Promise<unknown>) => Promise<void>;
  /** Logs every event to the console. */
  debug: boolean;
  /**
   * The refresh URL: configured, or this host's when the queue delivers locally; `undefined` leaves it to
   * `refreshUrlFor` (endpoint.ts).
   */
  refreshUrl: string | undefined;
  /** The refresh URL on this host, used when none is configured outside production. */
  localRefreshUrl: string;
  /** Whether this is production, where a missing refresh URL is an error. */
  production: boolean;
  /** The keys deliveries are verified with: configured, the queue's own, or QStash's from the environment. */
  signingKeys: SigningKeys | undefined;
  /** The longest `ttl` allowed, in ms; tag stamps and the version clock live this long. */
  maxTtlMs: number;
  /** Tags every entry of the instance carries (encoded). */
  defaultTags: readonly string[];
  /**
   * Called with the tags of every read of a tagged entry (an integration attaches them to the enclosing
   * framework cache entry: Next.js's `cacheTag`). Must not throw.
   */
  onTaggedRead: ((tags: readonly string[]) => void | Promise<void>) | undefined;
  /** When publishing fails, run the refresh in this process (under the same lock). */
  queueFallback: boolean;
  /** The longest a publish may take, ms. */
  publishTimeoutMs: number;
  /** How publishing backs off after a failure. */
  publishBackoff: BackoffSettings;
  /** How long a refresh's completion mark lives, ms: at least the queue's retry horizon. */
  completionTtlMs: number;
  /** Refreshes requested within this many ms go out as one message; 0 sends each at once. */
  batchWindowMs: number;
  /** Most refreshes one message carries. */
  batchSize: number;
  /** OpenTelemetry: `false` is off; otherwise on once a provider is registered (`undefined`: the defaults). */
  telemetry: TelemetryOption | undefined;
}

/**
 * Per-call options over the instance defaults over the library defaults, checked, with `ttl` bounded by
 * the instance's `maxTtl`.
 * @throws CachebackOptionsError when a value is out of range.
 */
export function resolveOptions(settings: CoreSettings, ...layers: (RefreshOptions | undefined)[]): ResolvedRefreshOptions {
  return withinMaxTtl(resolveRefreshOptions(maxTtlDefault(settings.maxTtlMs), settings.defaults, ...layers), settings.maxTtlMs);
}

/** The default `ttl` under a `maxTtl`: the library's default, or `maxTtl` when that is shorter. */
export function maxTtlDefault(maxTtlMs: number): RefreshOptions {
  return { ttl: Math.min(DEFAULT_REFRESH_OPTIONS.ttl, maxTtlMs / 1000) };
}

/**
 * `resolved`, when its `ttl` is at most `maxTtlMs`.
 * @throws CachebackOptionsError otherwise.
 */
export function withinMaxTtl(resolved: ResolvedRefreshOptions, maxTtlMs: number): ResolvedRefreshOptions {
  if (resolved.ttl * 1000 > maxTtlMs) {
    throw new CachebackOptionsError(
      `ttl (${resolved.ttl} s) is larger than the instance's maxTtl (${maxTtlMs / 1000} s): lower it, or raise maxTtl in createCacheback()`,
    );
  }
  return resolved;
}
