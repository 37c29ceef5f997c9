import type { StoredEntry } from "../entry.js";
import { insideNext } from "../runtime.js";
import type { CacheStore } from "../stores/types.js";

/**
 * Per-request memoisation of store reads through React `cache()`: in a React Server Components render,
 * reading one key twice costs one store call. Outside a Next.js server there is no render to memoise
 * in, so reads go straight to the store; without React installed they are simply not memoised.
 */
type Read = (store: CacheStore, key: string) => Promise<StoredEntry>;

const direct: Read = (store, key) => store.get(key);
let memoised: Read | undefined;
let loading: Promise<Read> | undefined;

function load(): Promise<Read> {
  loading ??= import("react").then(
    (react) => {
      const cache = (react as { cache?: <F extends (...args: never[]) => unknown>(fn: F) => F }).cache;
      return (memoised = typeof cache === "function" ? cache(direct) : direct);
    },
    () => (memoised = direct),
  );
  return loading;
}

let inNext: boolean | undefined;

/** Reads `key` from `store`, once per server request for the same store and key. */
export function requestMemoRead(store: CacheStore, key: string): Promise<StoredEntry> {
  if (memoised) return memoised(store, key);
  if (!(inNext ??= insideNext())) return store.get(key);
  return load().then((read) => read(store, key));
}
