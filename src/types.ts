import type { FetchOptions } from "./options.js";

/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

/** What a miss returns without fetching: the `empty` option's type, or `null`. */
export type EmptyOf<O> = "empty" extends keyof O ? O["empty" & keyof O] : null;

/**
 * What a read resolves to: the fetcher's type, plus the `empty` value's type when `fetchOnMiss` may be
 * `false` (a miss then returns `empty` instead of fetching).
 */
export type ReadValue<T, O> = "fetchOnMiss" extends keyof O
  ? false extends O["fetchOnMiss" & keyof O]
    ? T | EmptyOf<O>
    : T
  : T;

/** Options of a read, with the fetcher's type. */
export type ReadOptions<T> = FetchOptions<T>;
