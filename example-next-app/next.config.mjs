import { fileURLToPath } from "node:url";

// The repository root: the example is an npm workspace of it, so its dependencies (next, react, and
// next-cacheback itself, linked to the built package) are installed in the root node_modules.
const repositoryRoot = fileURLToPath(new URL("..", import.meta.url));

/** @type {import("next").NextConfig} */
const nextConfig = {
  turbopack: { root: repositoryRoot },
  outputFileTracingRoot: repositoryRoot,
};

export default nextConfig;
