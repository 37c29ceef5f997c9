// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  {
    ignores: ["dist/**", "packages/*/dist/**", "node_modules/**", "example-next-app/**", "coverage/**", "test/artifacts/**", "bench/.tmp/**", "bench/fixtures/*/.next*/**"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off",
    },
  },
  {
    // The inspector's page script runs in the browser.
    files: ["packages/dev/assets/**/*.js"],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Type-level tests bind values only to inspect their types.
    files: ["test/types/**/*.ts"],
    rules: { "@typescript-eslint/no-unused-vars": "off" },
  },
  {
    // Runtime library code must stay free of Node-only built-ins so it runs on the Edge runtime too. The
    // `next-cacheback` command (src/bin.ts) is not runtime code.
    files: ["src/**/*.ts"],
    ignores: ["src/bin.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["node:*"], message: "Runtime code must not import Node built-ins (Edge runtime)." }] },
      ],
    },
  },
  {
    // The dev package uses the library only through its published entries (next-cacheback, next-cacheback/delivery).
    files: ["packages/dev/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^(\\.\\./)+(src|dist)(/|$)", message: "Import the library by its public entries: next-cacheback or next-cacheback/delivery." },
            { regex: "^next-cacheback/(src|dist)(/|$)", message: "Import the library by its public entries: next-cacheback or next-cacheback/delivery." },
          ],
        },
      ],
    },
  },
);
