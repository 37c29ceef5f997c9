import { connect, createServer, type Server, type Socket } from "node:net";

/** A TCP proxy that can slow down, cut or refuse the connections it forwards. */
export interface FaultProxy {
  /** The port it listens on (kept across stop/start). */
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Milliseconds each chunk waits before it is forwarded, in both directions. Settable at any time. */
  delayMs: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Destroys every open connection (both sides); keeps listening. */
  cut(): void;
  /** Stops listening and cuts every connection: clients now get "connection refused". */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a {@link FaultProxy} on 127.0.0.1 and an ephemeral port, forwarding to `targetHost`:`targetPort`. */
export async function startFaultProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let connections = 0;
  const state = { delayMs: 0 };

  // Each direction forwards through its own chain, so a delay never reorders chunks.
  const pipeDelayed = (from: Socket, to: Socket): void => {
    let chain = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      const wait = state.delayMs;
      chain = chain.then(async () => {
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (!to.destroyed) to.write(chunk);
      });
    });
    from.on("end", () => {
      chain = chain.then(() => {
        if (!to.destroyed) to.end();
      });
    });
  };

  const cut = (): void => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };

  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      if (server) {
        resolve();
        return;
      }
      const s = createServer((client) => {
        connections++;
        const upstream = connect(targetPort, targetHost);
        sockets.add(client);
        sockets.add(upstream);
        const close = (): void => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", close).on("close", close);
        upstream.on("error", close).on("close", close);
        pipeDelayed(client, upstream);
        pipeDelayed(upstream, client);
      });
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        const address = s.address();
        if (typeof address === "object" && address !== null) port = address.port;
        server = s;
        resolve();
      });
    });

  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      cut();
      const s = server;
      server = undefined;
      if (!s) {
        resolve();
        return;
      }
      s.close(() => resolve());
    });

  await start();
  return {
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    get connections() {
      return connections;
    },
    cut,
    stop,
    start,
    close: stop,
  };
}
