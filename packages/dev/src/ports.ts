import type { Server } from "node:http";
import { PortInUseError } from "./errors.js";

/**
 * Starts `server` listening on `host:port` (port 0 picks a free one) and resolves with the bound port.
 * A taken or forbidden port rejects with {@link PortInUseError}.
 */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      if (error.code === "EADDRINUSE" || error.code === "EACCES") reject(new PortInUseError(host, port, { cause: error }));
      else reject(error);
    };
    const onListening = (): void => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

/** The base URL clients use to reach a server bound to `host:port` (a wildcard host becomes 127.0.0.1). */
export function baseUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return reachable.includes(":") ? `http://[${reachable}]:${port}` : `http://${reachable}:${port}`;
}

/**
 * Closes `server`: stops accepting, closes idle keep-alive sockets at once and, after `graceMs`, the sockets
 * still busy.
 */
export function closeServer(server: Server, graceMs = 1_000): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
