import { insideNext } from "../runtime.js";

/**
 * The bridge to Next.js's own cache (`next/cache`): attaching our tags to the enclosing `'use cache'`
 * entry, and passing our tag invalidations on to `revalidateTag` / `updateTag`. Loaded only inside a
 * Next.js server; everywhere else (a script, a test, plain Node) every call here does nothing. Where
 * Next.js refuses a call (during a render, inside `'use cache'`, outside a request), it is skipped
 * without an error: our own entries are already invalidated.
 */
export interface NextCache {
  cacheTag?: (...tags: string[]) => void;
  revalidateTag?: (tag: string, profile?: string | { expire?: number }) => void;
  updateTag?: (tag: string) => void;
}

export interface WorkUnitStorage {
  workUnitAsyncStorage?: { getStore(): { type?: string } | undefined };
}

let loaded: Promise<{ cache: NextCache | null; scope: WorkUnitStorage | null }> | undefined;

// `next` has no exports map, so plain Node ESM needs the file names.
export function load(): Promise<{ cache: NextCache | null; scope: WorkUnitStorage | null }> {
  if (!insideNext()) return Promise.resolve({ cache: null, scope: null });
  loaded ??= Promise.all([
    import("next/cache.js").then((m) => m as unknown as NextCache, () => null),
    import("next/dist/server/app-render/work-unit-async-storage.external.js").then(
      (m) => m as unknown as WorkUnitStorage,
      () => null,
    ),
  ]).then(([cache, scope]) => ({ cache, scope }));
  return loaded;
}

/** Whether this code runs inside a `'use cache'` scope (`undefined` when Next.js's storage cannot tell). */
export function inCacheScope(scope: WorkUnitStorage | null): boolean | undefined {
  const storage = scope?.workUnitAsyncStorage;
  if (!storage) return undefined;
  const type = storage.getStore()?.type;
  return type === "cache" || type === "private-cache";
}
