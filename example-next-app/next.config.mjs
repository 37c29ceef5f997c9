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
};

export default nextConfig;
