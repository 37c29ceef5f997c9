import type { StoredEntry } from "../entry.js";
import { insideNext } from "../runtime.js";
import type { CacheStore, TaggedRead } from "../stores/types.js";

/**
 * Per-request memoisation of store reads through React `cache()`: in a React Server Components render,
 * reading one key twice costs one store call. Outside a Next.js server there is no render to memoise
 * in, so reads go straight to the store; without React installed they are simply not memoised.
 */
interface Reads {
  get: (store: CacheStore, key: string) => Promise<StoredEntry>;
  /** `stampKeys` joined by newlines: React `cache()` compares arguments by identity, strings by value. */
  tagged: (store: CacheStore, key: string, stampKeys: string) => Promise<TaggedRead>;
}

const direct: Reads = {
  get: (store, key) => store.get(key),
  tagged: (store, key, stampKeys) => store.getWithStamps(key, stampKeys.split("\n")),
};
let memoised: Reads | undefined;
let loading: Promise<Reads> | undefined;

function load(): Promise<Reads> {
  loading ??= import("react").then(
    (react) => {
      const cache = (react as { cache?: <F extends (...args: never[]) => unknown>(fn: F) => F }).cache;
      return (memoised = typeof cache === "function" ? { get: cache(direct.get), tagged: cache(direct.tagged) } : direct);
    },
    () => (memoised = direct),
  );
  return loading;
}

let inNext: boolean | undefined;

function reads(): Reads | Promise<Reads> {
  if (memoised) return memoised;
  if (!(inNext ??= insideNext())) return (memoised = direct);
  return load();
}

/** Reads `key` from `store`, once per server request for the same store and key. */
export function requestMemoRead(store: CacheStore, key: string): Promise<StoredEntry> {
  const r = reads();
  return "then" in r ? r.then((m) => m.get(store, key)) : r.get(store, key);
}

/** Reads `key` and the stamps under `stampKeys`, once per server request for the same arguments. */
export function requestMemoTaggedRead(store: CacheStore, key: string, stampKeys: readonly string[]): Promise<TaggedRead> {
  const joined = stampKeys.join("\n");
  const r = reads();
  return "then" in r ? r.then((m) => m.tagged(store, key, joined)) : r.tagged(store, key, joined);
}
