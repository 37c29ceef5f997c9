import type { Client } from "@upstash/qstash";
import type { RefreshMessage } from "../message.js";
import type { PublishOptions, RefreshQueue } from "./types.js";

/** Options of {@link QStashQueue}. */
export interface QStashQueueOptions {
  /**
   * Delivery attempts QStash makes after the first one fails. Unset leaves it to QStash's default (3).
   * @default undefined
   */
  retries?: number;
}

/** Publishes refresh messages through the official `@upstash/qstash` client. */
export class QStashQueue implements RefreshQueue {
  readonly name = "qstash";
  readonly #client: Client;
  readonly #retries: number | undefined;

  constructor(client: Client, options: QStashQueueOptions = {}) {
    this.#client = client;
    this.#retries = options.retries;
  }

  async publish(message: RefreshMessage, options: PublishOptions): Promise<{ messageId: string }> {
    const res = await this.#client.publishJSON({
      url: options.url,
      body: message,
      deduplicationId: options.deduplicationId,
      ...(this.#retries === undefined ? {} : { retries: this.#retries }),
    });
    return { messageId: res.messageId };
  }
}
