/**
 * next-cacheback-dev: Upstash on your laptop. An Upstash Redis REST server bridged onto a real Redis, and a
 * QStash server that delivers signed messages with QStash's retries, for `@upstash/redis` and
 * `@upstash/qstash` to use unchanged, and an inspector: a page that shows the cache and the queue, live.
 * `startDevServers` starts them (what `next-cacheback dev` runs).
 *
 * @packageDocumentation
 */
export * from "./redis-rest.js";
export * from "./qstash-server.js";
export * from "./dev-servers.js";
export { DEV_INSPECTOR_PORT, startInspector, type Inspector, type InspectorOptions } from "./inspector.js";
export { DevServerError, DevServerOptionsError, PortInUseError, RedisUnreachableError } from "./errors.js";
export {
  QSTASH_DEV_CURRENT_SIGNING_KEY,
  QSTASH_DEV_NEXT_SIGNING_KEY,
  QSTASH_DEV_PORT,
  QSTASH_DEV_TOKEN,
} from "next-cacheback/delivery";
