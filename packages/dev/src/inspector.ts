import { createServer } from "node:http";
import { Redis } from "@upstash/redis";
import type { DeliveryEngine } from "next-cacheback/delivery";
import { DevServerOptionsError } from "./errors.js";
import { Actions } from "./inspector/actions.js";
import { createInspectorHandler, type InspectorContext } from "./inspector/server.js";
import { newToken } from "./inspector/security.js";
import { baseUrl, closeServer, listen } from "./ports.js";

/** The port the inspector listens on unless told otherwise (next to the Redis REST server's 8079 and QStash's 8080). */
export const DEV_INSPECTOR_PORT = 8078;

/** Options of {@link startInspector}. */
export interface InspectorOptions {
  /**
   * The port to listen on (always on 127.0.0.1); 0 picks a free one.
   * @default 8078
   */
  port?: number;
  /** The Redis REST server the app uses, and its token: the inspector reads Redis through it, as the app does. */
  redis: { url: string; token: string };
  /** The QStash server the app publishes to: its URL and token (refreshes are published there) and its engine (the message log and dead letters). */
  qstash: { url: string; token: string; engine: DeliveryEngine };
  /**
   * The prefix the page opens on (the page can switch to another).
   * @default "cacheback:"
   */
  prefix?: string;
  /**
   * The app's refresh route (`CACHEBACK_REFRESH_URL`): where "Invalidate" has QStash deliver the refresh.
   * @default "http://127.0.0.1:3000/api/cacheback"
   */
  refreshUrl?: string;
  /**
   * Receives one line per action taken from the page.
   * @default no logging
   */
  log?: (line: string) => void;
}

/** A running inspector. */
export interface Inspector {
  /** Its page, such as `http://127.0.0.1:8078/`. */
  readonly url: string;
  readonly port: number;
  /** The per-process token the page holds; API requests carry it in the `x-inspector-token` header. */
  readonly token: string;
  /** Stops listening. */
  close(): Promise<void>;
}

/**
 * Starts the inspector: a page on 127.0.0.1 that shows the app's entries (status, age, expiry, size, tags),
 * the refresh locks, the QStash message log and the dead-letter queue, live, with actions to invalidate or
 * delete an entry and to redeliver or drop a dead letter. It reads Redis through the Redis REST server with
 * the app's token. See the README's "The inspector" for its security model.
 * @throws {PortInUseError} when the port is taken.
 */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const prefix = options.prefix ?? "cacheback:";
  const refreshUrl = options.refreshUrl ?? "http://127.0.0.1:3000/api/cacheback";
  if (prefix === "") throw new DevServerOptionsError("The inspector's prefix must not be empty.");
  try {
    new URL(refreshUrl);
  } catch {
    throw new DevServerOptionsError(`The refresh URL '${refreshUrl}' is not an absolute URL.`);
  }
  const host = "127.0.0.1";
  // The page updates every second: a failed read is retried once, quickly, and then reported on the page.
  const client = { url: options.redis.url, token: options.redis.token, enableTelemetry: false, retry: { retries: 1, backoff: () => 100 } };
  const redis = new Redis(client);
  const raw = new Redis({ ...client, automaticDeserialization: false });
  const token = newToken();
  const ctx: InspectorContext = {
    raw,
    engine: options.qstash.engine,
    actions: new Actions({ redis, raw, qstash: options.qstash, refreshUrl }),
    info: { token, redisUrl: options.redis.url, qstashUrl: options.qstash.url, refreshUrl, defaultPrefix: prefix },
    port: 0,
    log: options.log ?? (() => {}),
  };
  const server = createServer({ keepAliveTimeout: 5_000 }, createInspectorHandler(ctx));
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  const port = await listen(server, options.port ?? DEV_INSPECTOR_PORT, host);
  ctx.port = port;
  let closing: Promise<void> | undefined;
  return {
    url: `${baseUrl(host, port)}/`,
    port,
    token,
    close: () => {
      closing ??= closeServer(server);
      return closing;
    },
  };
}
