import { DeliveryEngine } from "../qstash/delivery.js";
import type { RefreshMessage } from "../message.js";
import type { RefreshQueue } from "./types.js";

/** Options of {@link LocalQueue}. */
export interface LocalQueueOptions {
  /**
   * The key deliveries are signed with; the refresh route verifies with the same key.
   * @default a random key made when the queue is created
   */
  signingKey?: string;
  /**
   * Multiplies QStash's retry back-off (about 12 s, 2.5 min, 30 min). Tests use a small number.
   * @default 1
   */
  retryDelayScale?: number;
}

function randomSigningKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `sig_local_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * The embedded default's queue: it delivers each refresh message to the refresh route over HTTP, signed
 * the way QStash signs, with QStash's retries and deduplication, all inside this process. Development
 * thus runs the production code path. Messages live in memory: a process that exits loses them.
 */
export class LocalQueue implements RefreshQueue {
  readonly name = "local";
  /** The key deliveries are signed with (current and next). */
  readonly signingKey: string;
  /** The delivery engine, for inspection (its message log and dead letters). */
  readonly engine: DeliveryEngine;

  constructor(options: LocalQueueOptions = {}) {
    this.signingKey = options.signingKey ?? randomSigningKey();
    this.engine = new DeliveryEngine({ signingKey: this.signingKey, retryDelayScale: options.retryDelayScale ?? 1 });
  }

  async publish(message: RefreshMessage, options: { url: string; deduplicationId: string }): Promise<{ messageId: string }> {
    const { messageId } = await this.engine.publish({
      destination: options.url,
      body: JSON.stringify(message),
      headers: { "content-type": "application/json" },
      deduplicationId: options.deduplicationId,
    });
    return { messageId };
  }
}
