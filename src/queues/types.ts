import type { RefreshMessage } from "../message.js";

/** Where refresh messages go. QStash in production; an in-process queue in the embedded default. */
export interface RefreshQueue {
  /** A short name for logs ("qstash", "local"). */
  readonly name: string;
  /**
   * Sends `message` as JSON to `url`, to be delivered (signed) at least once.
   * `deduplicationId` makes a repeated publish of the same refresh a no-op.
   */
  publish(message: RefreshMessage, options: { url: string; deduplicationId: string }): Promise<{ messageId: string }>;
}
