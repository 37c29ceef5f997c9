import { fileURLToPath } from "node:url";

// The repository root: the example is an npm workspace of it, so its dependencies (next, react, and
// next-cacheback itself, linked to the built package) are installed in the root node_modules.
const repositoryRoot = fileURLToPath(new URL("..", import.meta.url));

/** @type {import("next").NextConfig} */
const nextConfig = {
  turbopack: { root: repositoryRoot },
  outputFileTracingRoot: repositoryRoot,
  // `'use cache'`, `cacheLife` and `cacheTag` need Cache Components. With it on, a page that reads at
  // request time (`connection()`) must do so inside `<Suspense>` (here: `app/loading.tsx`, or an
  // explicit boundary), or `next build` fails.
  cacheComponents: true,
  // Next.js 16.4.6 asks for this option to be set when `cacheComponents` is on, and suggests `true` for a new
  // app. Measured on this app (1,000 loads of a cached quote page, 200 at a time, under `next start`): with
  // `true` the server spent 20-22 ms of CPU per page, with `false` 12-18 ms, without Cache Components 11 ms.
  // This app's links do not need Partial Prefetching, so it stays off.
  partialPrefetching: false,
  // `'use cache: remote'` stores its entries through next-cacheback's cache handler, in the same Upstash
  // Redis as the data cache, sharing its tags. Next.js wants an absolute file path here, not a package name.
  cacheHandlers: { remote: fileURLToPath(import.meta.resolve("next-cacheback/cache-handler")) },
};

export default nextConfig;
