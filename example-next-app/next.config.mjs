import { fileURLToPath } from "node:url";

// The repository root: the example is an npm workspace of it, so its dependencies (next, react, and
// next-cacheback itself, linked to the built package) are installed in the root node_modules.
const repositoryRoot = fileURLToPath(new URL("..", import.meta.url));

/** @type {import("next").NextConfig} */
const nextConfig = {
  turbopack: { root: repositoryRoot },
  outputFileTracingRoot: repositoryRoot,
  // `'use cache'`, `cacheLife` and `cacheTag` need Cache Components. With it on, a page that reads at
  // request time (`connection()`) must do so inside `<Suspense>` (here: each route's `loading.tsx`, or an
  // explicit boundary), or `next build` fails.
  cacheComponents: true,
  partialPrefetching: true,
  // `'use cache: remote'` stores its entries through next-cacheback's cache handler, in the same Upstash
  // Redis as the data cache, sharing its tags. Next.js wants an absolute file path here, not a package name.
  cacheHandlers: { remote: fileURLToPath(import.meta.resolve("next-cacheback/cache-handler")) },
};

export default nextConfig;
