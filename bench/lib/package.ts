/**
 * next-cacheback as its users run it: the built package, loaded by its name (`next-cacheback` and
 * `next-cacheback/dev`, through the package's exports map). Only the types come from the source, so type
 * checking does not need a build. `ensure-dist.ts` rebuilds dist/ first when it is older than src/.
 */
import type * as Main from "../../src/index.js";
import type * as Dev from "../../src/dev/index.js";

const mainEntry = "next-cacheback";
const devEntry = "next-cacheback/dev";

/** The `next-cacheback` entry point. */
export const lib = (await import(mainEntry)) as typeof Main;

/** The `next-cacheback/dev` entry point. */
export const dev = (await import(devEntry)) as typeof Dev;
