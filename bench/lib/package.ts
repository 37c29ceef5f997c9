/**
 * next-cacheback as its users run it: the built packages, loaded by their names (`next-cacheback` and
 * `next-cacheback-dev`, through their exports maps). Only the types come from the source, so type
 * checking does not need a build. `ensure-dist.ts` rebuilds both first when a dist/ is older than its src/.
 */
import type * as Main from "../../src/index.js";
import type * as Dev from "../../packages/dev/src/index.js";
import type * as Handler from "../../src/cache-handler/index.js";

const mainEntry = "next-cacheback";
const devEntry = "next-cacheback-dev";
const handlerEntry = "next-cacheback/cache-handler";

/** The `next-cacheback` entry point. */
export const lib = (await import(mainEntry)) as typeof Main;

/** The `next-cacheback-dev` entry point (the dev servers). */
export const dev = (await import(devEntry)) as typeof Dev;

/** The `next-cacheback/cache-handler` entry point, loaded when a comparison needs it. */
export const loadHandlerEntry = async (): Promise<typeof Handler> => (await import(handlerEntry)) as typeof Handler;
