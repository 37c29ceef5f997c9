// Type-level tests: checked by `tsc` in `npm test`. Each @ts-expect-error must be an error.
import { cachebackFetch, cachebackFetchWithStatus, createCacheback, createRefreshHandler, defineJob } from "../../src/index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_: T) => undefined;

declare function slowQuote(symbol: string): Promise<{ symbol: string; price: number }>;
declare function getPosts(userId: number, page: number): { id: number }[];
declare function homepage(): Promise<string>;

export async function checks() {
  // Result types are inferred from the fetcher.
  const q = await cachebackFetch(["quote", "ACME"], slowQuote);
  expectType<Equal<typeof q, { symbol: string; price: number }>>(true);

  const h = await cachebackFetch("home", homepage, { lifetime: 60 });
  expectType<Equal<typeof h, string>>(true);

  // The key's arguments are checked against the fetcher's parameters.
  // @ts-expect-error a number where the fetcher takes a string
  await cachebackFetch(["quote", 42], slowQuote);
  // @ts-expect-error a missing argument
  await cachebackFetch(["posts", 1], getPosts);
  await cachebackFetch(["posts", 1, 2], getPosts);
  // @ts-expect-error a plain string key goes with a fetcher that takes no arguments
  await cachebackFetch("quote", slowQuote);

  // fetchOnMiss: false adds the empty value to the result type.
  const maybe = await cachebackFetch(["quote", "ACME"], slowQuote, { fetchOnMiss: false });
  expectType<Equal<typeof maybe, { symbol: string; price: number } | null>>(true);
  const withEmpty = await cachebackFetch(["posts", 1, 1], getPosts, { fetchOnMiss: false, empty: [] });
  expectType<Equal<typeof withEmpty, { id: number }[] | readonly []>>(true);

  const status = await cachebackFetchWithStatus(["quote", "ACME"], slowQuote);
  expectType<Equal<typeof status.value, { symbol: string; price: number }>>(true);
  expectType<Equal<typeof status.status, "hit" | "stale" | "miss">>(true);

  // Jobs are typed callables with verbs.
  const quote = defineJob("quote", slowQuote, { lifetime: 60 });
  const v = await quote("ACME");
  expectType<Equal<typeof v, { symbol: string; price: number }>>(true);
  // @ts-expect-error wrong argument type
  await quote(1);
  await quote.invalidate("ACME");
  await quote.set("ACME", { symbol: "ACME", price: 1 });
  // @ts-expect-error set takes the args then a value of the fetcher's type
  await quote.set("ACME", { symbol: "ACME" });
  const peeked = await quote.peek("ACME");
  expectType<Equal<typeof peeked.value, { symbol: string; price: number } | undefined>>(true);
  const key: string = quote.key("ACME");
  void key;

  const lazy = defineJob("feed", getPosts, { fetchOnMiss: false });
  const feed = await lazy(1, 2);
  expectType<Equal<typeof feed, { id: number }[] | null>>(true);

  createRefreshHandler({ jobs: [quote, lazy] });
  createRefreshHandler({ jobs: { quote: slowQuote, posts: getPosts } });

  const cb = createCacheback({ prefix: "app:" });
  const viaInstance = await cb.fetch(["posts", 1, 2], getPosts);
  expectType<Equal<typeof viaInstance, { id: number }[]>>(true);
}
