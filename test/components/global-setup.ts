import { ensureBuilt } from "../helpers/built-package.js";

/** The example imports next-cacheback as users do, from the built package: make sure it is built. */
export default function setup(): void {
  ensureBuilt();
}
