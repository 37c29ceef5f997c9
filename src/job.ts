import type { CachebackCore } from "./core/core.js";
import type { CachebackResult, InvalidateResult, PeekResult } from "./core/results.js";
import { checkJobName, type CacheKey } from "./keys.js";
import type { FetchOptions } from "./options.js";
import type { ArgsValidator } from "./schema.js";
import type { TagsOption } from "./tags/tags.js";
import type { Awaitable } from "./types.js";

/** Options of `defineJob`: the read options, bound to every call, plus an arguments check. */
export interface JobOptions<A extends readonly unknown[] = readonly unknown[], T = unknown> extends Omit<FetchOptions<T>, "tags"> {
  /**
   * Checks the arguments a refresh message carries before the job runs (a Standard Schema such as a
   * Zod tuple, or a predicate). Refused arguments get a 489 from the refresh route and nothing runs.
   * @default undefined (any JSON array is accepted)
   */
  args?: ArgsValidator<A>;
  /**
   * Tags every entry of the job carries: a list, or a function of the job's arguments returning one,
   * e.g. `tags: (id) => ["posts", "post:" + id]`. See `FetchOptions.tags`.
   * @default [] (plus the instance's default tags)
   */
  tags?: TagsOption<A>;
}

/**
 * A named, typed cached function: call it like the fetcher; the verbs act on the entry of those
 * arguments. Register it with `createRefreshHandler({ jobs: [job] })` so refreshes can run it.
 */
export interface Job<A extends readonly unknown[], T, R = T> {
  /** Reads through the cache (see `cachebackFetch`). */
  (...args: A): Promise<R>;
  /** The name refresh messages find this job by. */
  readonly jobName: string;
  /** The fetcher. */
  readonly fetcher: (...args: A) => Awaitable<T>;
  /** The options bound to every call. */
  readonly options: JobOptions<A, T>;
  /** Reads through the cache and tells what happened (status, sync fetch, age). */
  withStatus(...args: A): Promise<CachebackResult<R>>;
  /** Marks the entry stale and queues a refresh. */
  invalidate(...args: A): Promise<InvalidateResult>;
  /** Removes the entry. */
  delete(...args: A): Promise<void>;
  /** Writes a value by hand: `job.set(...args, value)`. */
  set(...argsAndValue: [...A, T]): Promise<void>;
  /** Reads the raw entry with its status and age, with no side effects. */
  peek(...args: A): Promise<PeekResult<T>>;
  /** The Redis key of the entry. */
  key(...args: A): string;
}

/** A job of any signature (what the refresh route accepts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJob = Job<any, any, any>;

/** Builds a job bound to the instance `instance()` returns (looked up at each call). */
export function makeJob<A extends readonly unknown[], T, R>(
  instance: () => CachebackCore,
  name: string,
  fn: (...args: A) => Awaitable<T>,
  options: JobOptions<A, T> = {},
): Job<A, T, R> {
  checkJobName(name);
  if (typeof fn !== "function") throw new TypeError(`defineJob("${name}", fn): fn must be a function`);
  const keyOf = (args: readonly unknown[]): CacheKey => (args.length === 0 ? name : [name, ...args]);
  // One frozen copy: the read path works out a frozen options object once (resolved options, tags).
  const frozen = Object.freeze({ ...options });
  const readOptions = frozen as unknown as FetchOptions<R>;
  const writeOptions = frozen as unknown as FetchOptions<T>;
  const run = fn as (...a: never[]) => unknown;
  const job = ((...args: A) => instance().readValue<R>(keyOf(args), run, readOptions)) as Job<A, T, R>;
  Object.defineProperties(job, {
    jobName: { value: name, enumerable: true },
    fetcher: { value: fn },
    options: { value: frozen },
  });
  Object.assign(job, {
    withStatus: (...args: A) => instance().read<R>(keyOf(args), run, readOptions),
    invalidate: (...args: A) => instance().invalidate(keyOf(args), writeOptions),
    delete: (...args: A) => instance().delete(keyOf(args)),
    set: (...argsAndValue: [...A, T]) => {
      const args = argsAndValue.slice(0, -1);
      return instance().set(keyOf(args), argsAndValue[argsAndValue.length - 1] as T, writeOptions);
    },
    peek: (...args: A) => instance().peek<T>(keyOf(args), { serializer: frozen.serializer }),
    key: (...args: A) => instance().key(keyOf(args)),
  });
  return job;
}

/** True for a value made by `defineJob`. */
export function isJob(value: unknown): value is AnyJob {
  return typeof value === "function" && typeof (value as { jobName?: unknown }).jobName === "string";
}
