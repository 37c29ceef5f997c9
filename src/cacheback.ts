import type { CachebackConfig } from "./config.js";
import { CachebackCore } from "./core/core.js";
import { makeJob, type Job, type JobOptions } from "./job.js";
import { createRefreshHandler, type RefreshHandlerOptions } from "./route/handler.js";
import { assemble } from "./setup/assemble.js";
import type { Awaitable, ReadValue } from "./types.js";

/**
 * An instance: a store, a queue, a prefix and option defaults, with jobs and a refresh route of its own.
 * The top-level functions use one made from the environment; `createCacheback(config)` makes others.
 */
export class Cacheback extends CachebackCore {
  constructor(config: CachebackConfig = {}) {
    super(assemble(config));
  }

  /** Defines a named, typed job on this instance (see the top-level `defineJob`). */
  defineJob<A extends readonly unknown[], T, const O extends JobOptions<A, T> = JobOptions<A, T>>(
    name: string,
    fn: (...args: A) => Awaitable<T>,
    options?: O,
  ): Job<A, T, ReadValue<T, O>> {
    return makeJob<A, T, ReadValue<T, O>>(() => this, name, fn, options);
  }

  /** The refresh route of this instance (see the top-level `createRefreshHandler`). */
  createRefreshHandler(options: Omit<RefreshHandlerOptions, "cacheback">): (request: Request) => Promise<Response> {
    return createRefreshHandler({ ...options, cacheback: this });
  }
}

/** Makes an explicit instance (own Redis / QStash clients, prefix, defaults). */
export function createCacheback(config: CachebackConfig = {}): Cacheback {
  return new Cacheback(config);
}
