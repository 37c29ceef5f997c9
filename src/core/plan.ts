import type { FetchOptions, ResolvedRefreshOptions } from "../options.js";
import { entryTags } from "../tags/tags.js";
import { resolveMemory, type MemorySettings } from "./memory-tier.js";
import { resolveOptions, type CoreSettings } from "./settings.js";

/** What a read needs from its options, worked out once per frozen options object. */
export interface Plan {
  opts: ResolvedRefreshOptions;
  /** The entry's tags when they do not depend on the arguments; `undefined` when they do. */
  tags: readonly string[] | undefined;
  /** The memory tier of the read, when it is on. */
  memory: MemorySettings | undefined;
}

const NO_TAGS: readonly string[] = Object.freeze([]);

function makePlan(settings: CoreSettings, options: FetchOptions<unknown>, key: string): Plan {
  const opts = resolveOptions(settings, options);
  const memory = options.memory === undefined ? settings.defaultMemory : resolveMemory(options.memory);
  if (options.tags === undefined) return { opts, memory, tags: settings.defaultTags.length === 0 ? NO_TAGS : settings.defaultTags };
  if (typeof options.tags === "function") return { opts, memory, tags: undefined };
  return { opts, memory, tags: Object.freeze(entryTags([settings.defaultTags, options.tags], [], key)) };
}

/**
 * The resolved options and the tags of one read. A job's options are frozen, so its plan is made once
 * and kept in `plans`; a call's own options object is planned each time.
 * @throws CachebackOptionsError for options out of range or a bad tag.
 */
export function planRead(
  plans: WeakMap<object, Plan>,
  settings: CoreSettings,
  options: FetchOptions<unknown>,
  args: readonly unknown[],
  key: string,
): { opts: ResolvedRefreshOptions; tags: readonly string[]; memory: MemorySettings | undefined } {
  let plan: Plan | undefined;
  if (Object.isFrozen(options)) {
    plan = plans.get(options);
    if (!plan) plans.set(options, (plan = makePlan(settings, options, key)));
  } else {
    plan = makePlan(settings, options, key);
  }
  if (plan.tags) return plan as { opts: ResolvedRefreshOptions; tags: readonly string[]; memory: MemorySettings | undefined };
  return { opts: plan.opts, memory: plan.memory, tags: entryTags([settings.defaultTags, options.tags], args, key) };
}
