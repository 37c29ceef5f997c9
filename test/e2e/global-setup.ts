import { buildExample } from "./example-app.js";

/** Builds the example once for the whole e2e run; every file then serves that build with `next start`. */
export default function setup(): void {
  const ms = buildExample();
  console.log(ms > 0 ? `e2e: built example-next-app in ${(ms / 1000).toFixed(1)} s` : "e2e: example-next-app build is current");
}
