/**
 * `next-cacheback/delivery`: the in-process, QStash-compatible delivery engine behind the embedded default's
 * `LocalQueue` and behind the QStash server of `next-cacheback-dev`.
 *
 * A {@link DeliveryEngine} takes published messages and delivers each one to its destination over HTTP,
 * signed exactly as QStash signs (so the official `Receiver` verifies it), with QStash's retries,
 * deduplication and dead-letter queue, all in memory. It uses Web APIs only (fetch, Web Crypto, timers).
 *
 * This entry is for tools built on next-cacheback, such as `next-cacheback-dev`; an app reads and refreshes
 * its cache through the main entry, `next-cacheback`.
 *
 * @packageDocumentation
 */
export {
  DeliveryEngine,
  validateDestination,
  type DeliveryAttempt,
  type DeliveryEngineOptions,
  type MessageRecord,
  type MessageState,
  type PublishInput,
  type PublishResult,
} from "./qstash/delivery.js";
export {
  QSTASH_DEV_CURRENT_SIGNING_KEY,
  QSTASH_DEV_NEXT_SIGNING_KEY,
  QSTASH_DEV_PORT,
  QSTASH_DEV_TOKEN,
} from "./qstash/dev-credentials.js";
export { DeliveryEngineClosedError, QStashPublishError } from "./qstash/errors.js";
