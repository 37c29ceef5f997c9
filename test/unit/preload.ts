// The library loads some modules on first use (`import()`), and vitest's module loader stalls while a test
// fakes `setTimeout`: tests with fake timers would wait on it. Load them before any test runs.
await Promise.all([
  import("../../src/core/dispatch.js"),
  import("../../src/core/runner.js"),
  import("../../src/core/sync-fetch.js"),
  import("../../src/core/verbs.js"),
  import("../../src/core/tag-verbs.js"),
  import("../../src/telemetry/start.js"),
  import("../../src/telemetry/otel.js"),
  import("@opentelemetry/api"),
]);
