// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  {
    ignores: ["dist/**", "node_modules/**", "example-next-app/**", "coverage/**", "test/artifacts/**", "bench/.tmp/**"],
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
    // Type-level tests bind values only to inspect their types.
    files: ["test/types/**/*.ts"],
    rules: { "@typescript-eslint/no-unused-vars": "off" },
  },
  {
    // Runtime library code must stay free of Node-only built-ins so it runs on the Edge runtime too.
    files: ["src/**/*.ts"],
    ignores: ["src/dev/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["node:*"], message: "Runtime code must not import Node built-ins (Edge runtime)." }] },
      ],
    },
  },
);
