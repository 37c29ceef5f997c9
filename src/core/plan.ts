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
 * Plans of frozen option objects (a job's, or a read's without options), made once per instance and
 * kept; the one used last is checked first, as hits on one job tend to come in runs.
 */
export class Plans {
  readonly #byOptions = new WeakMap<object, Plan>();
  #lastOptions: object | undefined;
  #lastPlan: Plan | undefined;

  /** The plan of `options`: kept when they are frozen, made afresh otherwise. */
  of(settings: CoreSettings, options: FetchOptions<unknown>, key: string): Plan {
    if (options === this.#lastOptions) return this.#lastPlan!;
    if (!Object.isFrozen(options)) return makePlan(settings, options, key);
    let plan = this.#byOptions.get(options);
    if (!plan) this.#byOptions.set(options, (plan = makePlan(settings, options, key)));
    this.#lastOptions = options;
    this.#lastPlan = plan;
    return plan;
  }
}

/**
 * The resolved options and the tags of one read. A job's options are frozen, so its plan is made once
 * and kept in `plans`; a call's own options object is planned each time.
 * @throws CachebackOptionsError for options out of range or a bad tag.
 */
export function planRead(
  plans: Plans,
  settings: CoreSettings,
  options: FetchOptions<unknown>,
  args: readonly unknown[],
  key: string,
): { opts: ResolvedRefreshOptions; tags: readonly string[]; memory: MemorySettings | undefined } {
  const plan = plans.of(settings, options, key);
  if (plan.tags) return plan as { opts: ResolvedRefreshOptions; tags: readonly string[]; memory: MemorySettings | undefined };
  return { opts: plan.opts, memory: plan.memory, tags: entryTags([settings.defaultTags, options.tags], args, key) };
}
