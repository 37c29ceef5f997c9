/**
 * Per-request memoisation of store reads through React `cache()`: in a React Server Components render,
 * reading one key twice costs one store call. Outside a server render React's `cache` is a pass-through,
 * and without React installed reads are simply not memoised.
 */
type Read = (reader: (key: string) => Promise<unknown>, key: string) => Promise<unknown>;

const direct: Read = (reader, key) => reader(key);
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

/** Reads `key` through `reader`, once per server request for the same reader and key. */
export function requestMemoRead(reader: (key: string) => Promise<unknown>, key: string): Promise<unknown> {
  if (memoised) return memoised(reader, key);
  return load().then((read) => read(reader, key));
}
