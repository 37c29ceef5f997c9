import { createServer } from "node:http";
import {
  DeliveryEngine,
  QSTASH_DEV_CURRENT_SIGNING_KEY,
  QSTASH_DEV_NEXT_SIGNING_KEY,
  QSTASH_DEV_PORT,
  QSTASH_DEV_TOKEN,
} from "next-cacheback/delivery";
import { DevServerOptionsError } from "./errors.js";
import { baseUrl, closeServer, listen } from "./ports.js";
import { createRequestHandler, type QStashContext } from "./qstash-server/handler.js";

export type { MessageView } from "./qstash-server/views.js";

/** Options of {@link startQStashServer}. */
export interface QStashServerOptions {
  /**
   * The port to listen on; 0 picks a free one.
   * @default 8080
   */
  port?: number;
  /**
   * The interface to listen on. `@upstash/qstash` in dev mode health-checks `http://127.0.0.1:<port>`.
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * The bearer token every `/v2/*` request must carry.
   * @default QSTASH_DEV_TOKEN
   */
  token?: string;
  /**
   * The key deliveries are signed with (`QSTASH_CURRENT_SIGNING_KEY`).
   * @default QSTASH_DEV_CURRENT_SIGNING_KEY
   */
  currentSigningKey?: string;
  /**
   * The next signing key, reported by `GET /v2/keys` (`QSTASH_NEXT_SIGNING_KEY`).
   * @default QSTASH_DEV_NEXT_SIGNING_KEY
   */
  nextSigningKey?: string;
  /**
   * Multiplies every wait (delays, retry back-off, `Retry-After`); tests use ~0.001.
   * @default 1
   */
  retryDelayScale?: number;
  /**
   * How long a deduplication id is remembered, in seconds.
   * @default 600
   */
  dedupWindowSeconds?: number;
  /**
   * The largest message body accepted, in bytes; a larger publish answers 413. A `/v2/batch` request may be
   * up to 16 times this size, each message in it at most this size.
   * @default 1_048_576
   */
  maxBodyBytes?: number;
  /**
   * Receives one line per published, delivered, retried or dead-lettered message.
   * @default no logging
   */
  log?: (line: string) => void;
}

/** A running local QStash server. */
export interface QStashServer {
  /** Its base URL (`QSTASH_URL`), such as `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The bearer token it expects (`QSTASH_TOKEN`). */
  readonly token: string;
  /** The key deliveries are signed with (`QSTASH_CURRENT_SIGNING_KEY`). */
  readonly currentSigningKey: string;
  /** The next signing key (`QSTASH_NEXT_SIGNING_KEY`). */
  readonly nextSigningKey: string;
  /** The delivery engine behind it: its message log, dead letters and `idle()`. */
  readonly engine: DeliveryEngine;
  /** Stops listening and stops the engine (waiting messages are not delivered). */
  close(): Promise<void>;
}

/**
 * Starts a local, offline QStash that `@upstash/qstash` publishes to unchanged (as `QSTASH_URL`, or through
 * its dev mode, `QSTASH_DEV=true`) and that delivers every message to its destination signed as QStash signs,
 * with QStash's retries and dead-letter queue. Routes: `POST /v2/publish/<destination>`, `POST /v2/batch`,
 * `GET /v2/keys`, `GET /v2/messages`, `GET|DELETE /v2/messages/<id>`, `GET /v2/dlq`, `GET|DELETE /v2/dlq/<id>`,
 * and `GET /`, a page listing recent messages.
 * @throws {PortInUseError} when the port is taken.
 */
export async function startQStashServer(options: QStashServerOptions = {}): Promise<QStashServer> {
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? QSTASH_DEV_TOKEN;
  const currentSigningKey = options.currentSigningKey ?? QSTASH_DEV_CURRENT_SIGNING_KEY;
  const nextSigningKey = options.nextSigningKey ?? QSTASH_DEV_NEXT_SIGNING_KEY;
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  const log = options.log ?? (() => {});
  if (!token) throw new DevServerOptionsError("The QStash dev server needs a non-empty token.");
  if (!currentSigningKey || !nextSigningKey) {
    throw new DevServerOptionsError("The QStash dev server needs non-empty current and next signing keys.");
  }
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new DevServerOptionsError(`maxBodyBytes must be a whole number of bytes > 0, got ${String(options.maxBodyBytes)}.`);
  }
  const engine = new DeliveryEngine({
    signingKey: currentSigningKey,
    retryDelayScale: options.retryDelayScale ?? 1,
    dedupWindowMs: (options.dedupWindowSeconds ?? 600) * 1000,
    log,
  });

  const ctx: QStashContext = { engine, token, currentSigningKey, nextSigningKey, maxBodyBytes, log, url: "" };
  const server = createServer(createRequestHandler(ctx));
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  const port = await listen(server, options.port ?? QSTASH_DEV_PORT, host).catch(async (error: unknown) => {
    await engine.close();
    throw error;
  });
  ctx.url = baseUrl(host, port);
  let closing: Promise<void> | undefined;

  return {
    url: ctx.url,
    port,
    token,
    currentSigningKey,
    nextSigningKey,
    engine,
    close() {
      closing ??= Promise.all([engine.close(), closeServer(server)]).then(() => undefined);
      return closing;
    },
  };
}
