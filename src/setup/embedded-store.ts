import { MemoryStore } from "../stores/memory.js";

const SLOT = Symbol.for("next-cacheback.embedded-store");

/**
 * The in-memory store of the embedded default (no Redis configured), one per process on `globalThis`.
 * The default instance and the cache handler (`next-cacheback/cache-handler`) are different module
 * instances in a Next.js server (the app's bundle, and a plain Node `import()`), so this is where they
 * meet: one tag namespace (stamps under `<prefix>tag:`) and one version clock, as Redis gives them
 * when it is configured.
 */
export function embeddedStore(): MemoryStore {
  const g = globalThis as unknown as Record<symbol, MemoryStore | undefined>;
  return (g[SLOT] ??= new MemoryStore());
}
