import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const exampleDir = fileURLToPath(new URL("./example-next-app/", import.meta.url));
const builtEntry = fileURLToPath(new URL("./dist/index.js", import.meta.url));
const deliverySource = fileURLToPath(new URL("./src/delivery.ts", import.meta.url));

// One `vitest run` runs every project below and prints one summary (what CI reads).
export default defineConfig({
  // The dev package's sources (packages/dev/src), which the tests import, reach the library's delivery engine
  // through its public entry; tests run it from the sources, as the rest of the library under test.
  resolve: {
    alias: [{ find: /^next-cacheback\/delivery$/, replacement: deliverySource }],
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          setupFiles: ["test/unit/preload.ts"],
        },
      },
      {
        extends: true,
        // The example's components, rendered with @testing-library/react. `@/` is the example's own alias;
        // next-cacheback is the built package's server entry (a DOM environment would otherwise pick the
        // `browser` condition, whose guard throws on purpose).
        resolve: {
          alias: [
            { find: /^@\//, replacement: exampleDir },
            { find: /^next-cacheback$/, replacement: builtEntry },
          ],
        },
        test: {
          name: "components",
          include: ["test/components/**/*.test.tsx"],
          environment: "happy-dom",
          globalSetup: ["test/components/global-setup.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: "reliability",
          include: ["test/reliability/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 600_000,
          // The example app is built once per run (global setup); each file serves it with `next start`.
          fileParallelism: false,
          globalSetup: ["test/e2e/global-setup.ts"],
        },
      },
    ],
  },
});
