import { clockKey } from "../keys.js";
import type { ClockRequest } from "../stores/types.js";
import type { CoreContext } from "./context.js";

/**
 * How to take a version from the store's shared clock: at least this process's own next version, so
 * versions stay close to real time, and strictly after every version any instance took before. Entries
 * with tags and the tag stamps take their versions there, so that an invalidation and a write are
 * ordered as they happened, whichever instance's clock runs ahead.
 */
export function clockRequest(ctx: CoreContext): ClockRequest {
  return { key: clockKey(ctx.settings.prefix), floor: ctx.settings.versions.next(), ttlMs: ctx.settings.maxTtlMs };
}
