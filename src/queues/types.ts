import type { RefreshBatch, RefreshMessage } from "../message.js";

/** The pair of keys the refresh route verifies QStash signatures with. */
export interface SigningKeys {
  /** `QSTASH_CURRENT_SIGNING_KEY` */
  current: string;
  /** `QSTASH_NEXT_SIGNING_KEY` */
  next: string;
}

/** Where to send a refresh message, and how to deduplicate it. */
export interface PublishOptions {
  /** The absolute URL of the refresh route. */
  url: string;
  /** A repeated publish with the same id is a no-op (QStash's deduplication window). */
  deduplicationId: string;
}

/**
 * Where refresh messages go: QStash in production, an in-process queue in the embedded default. A queue
 * of your own implements `publish`, and says through the optional fields what the rest of the library
 * must know about it.
 */
export interface RefreshQueue {
  /** A short name for logs ("qstash", "local"). */
  readonly name: string;
  /** Sends `message` (one refresh, or a batch of them) as JSON to `options.url`, to be delivered (signed) at least once. */
  publish(message: RefreshMessage | RefreshBatch, options: PublishOptions): Promise<{ messageId: string }>;
  /**
   * The keys this queue signs its deliveries with, when it signs them itself (the local queue). The
   * refresh route verifies with them unless signing keys are configured.
   * @default undefined (deliveries are signed by QStash: its signing keys come from the environment)
   */
  readonly signingKeys?: SigningKeys;
  /**
   * Whether the queue delivers from this very process to the app it runs in, so a refresh URL on this
   * host is the right default, in production too.
   * @default false
   */
  readonly deliversLocally?: boolean;
  /**
   * How long after its first delivery the queue may still redeliver a message, in ms: the refresh route
   * remembers each completed refresh at least this long, so a late redelivery never runs its job again.
   * @default one day
   */
  readonly retryHorizonMs?: number;
}
