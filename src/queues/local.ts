import type { RefreshBatch, RefreshMessage } from "../message.js";
import { retryHorizonMs } from "../qstash/retry.js";
import type { DeliveryEngine } from "../qstash/delivery.js";
import type { PublishOptions, RefreshQueue, SigningKeys } from "./types.js";

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
 *
 * The delivery engine (and the JWT signer it uses) is loaded on the first publish, so an app on QStash
 * never loads it.
 */
export class LocalQueue implements RefreshQueue {
  readonly name = "local";
  readonly deliversLocally = true;
  /** The key deliveries are signed with (current and next). */
  readonly signingKey: string;
  readonly signingKeys: SigningKeys;
  readonly #retryDelayScale: number;
  #engine: Promise<DeliveryEngine> | undefined;

  constructor(options: LocalQueueOptions = {}) {
    this.signingKey = options.signingKey ?? randomSigningKey();
    this.signingKeys = { current: this.signingKey, next: this.signingKey };
    this.#retryDelayScale = options.retryDelayScale ?? 1;
  }

  /** The delivery engine, loaded on first use: its message log and dead letters, for inspection. */
  engine(): Promise<DeliveryEngine> {
    this.#engine ??= import("../qstash/delivery.js").then(
      ({ DeliveryEngine }) => new DeliveryEngine({ signingKey: this.signingKey, retryDelayScale: this.#retryDelayScale }),
    );
    return this.#engine;
  }

  /** The local engine retries a failing delivery as QStash does by default (3 times), on its scaled schedule. */
  get retryHorizonMs(): number {
    return retryHorizonMs(3, this.#retryDelayScale);
  }

  async publish(message: RefreshMessage | RefreshBatch, options: PublishOptions): Promise<{ messageId: string }> {
    const engine = await this.engine();
    const { messageId } = await engine.publish({
      destination: options.url,
      body: JSON.stringify(message),
      headers: { "content-type": "application/json" },
      deduplicationId: options.deduplicationId,
    });
    return { messageId };
  }
}
