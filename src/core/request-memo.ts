import type { CacheStore, TaggedRead } from "../stores/types.js";

/**
 * Per-request memoisation of store reads through React `cache()`: in a React Server Components render,
 * reading one key twice costs one store call. Where there is no render to memoise in (the settings say
 * so: outside a Next.js server), reads go straight to the store; without React installed they are simply
 * not memoised.
 */
interface Reads {
  get: (store: CacheStore, key: string) => Promise<unknown>;
  /** `stampKeys` joined by newlines: React `cache()` compares arguments by identity, strings by value. */
  tagged: (store: CacheStore, key: string, stampKeys: string) => Promise<TaggedRead>;
}

/** A store's raw read when it has one (`toStoredEntry` makes the entry of either). */
const readRaw = (store: CacheStore, key: string): Promise<unknown> => (store.getRaw ? store.getRaw(key) : store.get(key));

const direct: Reads = {
  get: readRaw,
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

function reads(memo: boolean): Reads | Promise<Reads> {
  if (!memo) return direct;
  return memoised ?? load();
}

/**
 * Reads `key` from `store`, once per server request for the same store and key when `memo` is on. It
 * resolves to what the store read, raw or already decoded: `toStoredEntry` of it is the entry.
 */
export function requestMemoRead(store: CacheStore, key: string, memo: boolean): Promise<unknown> {
  if (!memo) return readRaw(store, key);
  const r = reads(memo);
  return "then" in r ? r.then((m) => m.get(store, key)) : r.get(store, key);
}

/** Reads `key` and the stamps under `stampKeys`, once per server request for the same arguments when `memo` is on. */
export function requestMemoTaggedRead(store: CacheStore, key: string, stampKeys: readonly string[], memo: boolean): Promise<TaggedRead> {
  if (!memo) return store.getWithStamps(key, stampKeys);
  const joined = stampKeys.join("\n");
  const r = reads(memo);
  return "then" in r ? r.then((m) => m.tagged(store, key, joined)) : r.tagged(store, key, joined);
}
