import type { Client } from "@upstash/qstash";
import type { RefreshBatch, RefreshMessage } from "../message.js";
import { retryHorizonMs } from "../qstash/retry.js";
import type { PublishOptions, RefreshQueue } from "./types.js";

/** Options of {@link QStashQueue}. */
export interface QStashQueueOptions {
  /**
   * Delivery attempts QStash makes after the first one fails. Unset leaves it to QStash's default (3).
   * @default undefined
   */
  retries?: number;
}

/** How many times QStash retries a failed delivery when the message does not say. */
const QSTASH_DEFAULT_RETRIES = 3;

/** Publishes refresh messages through the official `@upstash/qstash` client. */
export class QStashQueue implements RefreshQueue {
  readonly name = "qstash";
  readonly #client: Client;
  readonly #retries: number | undefined;

  constructor(client: Client, options: QStashQueueOptions = {}) {
    this.#client = client;
    this.#retries = options.retries;
  }

  /** QStash's retries of a failing delivery span this long (its default of 3 retries: about 33 minutes). */
  get retryHorizonMs(): number {
    return retryHorizonMs(this.#retries ?? QSTASH_DEFAULT_RETRIES);
  }

  async publish(message: RefreshMessage | RefreshBatch, options: PublishOptions): Promise<{ messageId: string }> {
    const res = await this.#client.publishJSON({
      url: options.url,
      body: message,
      deduplicationId: options.deduplicationId,
      ...(this.#retries === undefined ? {} : { retries: this.#retries }),
    });
    return { messageId: res.messageId };
  }
}
