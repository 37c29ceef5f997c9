import { createServer, type IncomingHttpHeaders, type Server } from "node:http";

/** A request the recording receiver got. */
export interface ReceivedRequest {
  method: string;
  /** The raw request target: path and query, exactly as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** When it arrived, unix milliseconds. */
  at: number;
}

/** What the receiver answers. */
export interface ReceiverAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** Chooses the answer to the `index`-th request (0-based) of one path. */
export type Responder = (request: ReceivedRequest, index: number) => ReceiverAnswer;

/** A local HTTP destination that records every request and answers as each test tells it, per path. */
export interface RecordingReceiver {
  readonly url: string;
  readonly port: number;
  /** Sets how requests whose path starts with `path` are answered (default: 200 "ok"). */
  on(path: string, responder: Responder): void;
  /** The requests whose path (before `?`) starts with `path`, in arrival order. */
  requests(path: string): ReceivedRequest[];
  close(): Promise<void>;
}

/** Starts a {@link RecordingReceiver} on 127.0.0.1 and an ephemeral port. */
export async function startRecordingReceiver(): Promise<RecordingReceiver> {
  const received: ReceivedRequest[] = [];
  const responders = new Map<string, Responder>();
  const pathOf = (url: string) => url.split("?")[0] as string;
  const matching = (path: string) => received.filter((request) => pathOf(request.url).startsWith(path));

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: ReceivedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      received.push(request);
      let answer: ReceiverAnswer = { status: 200, body: "ok" };
      for (const [path, responder] of responders) {
        if (pathOf(request.url).startsWith(path)) {
          answer = responder(request, matching(path).length - 1);
          break;
        }
      }
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    on: (path, responder) => void responders.set(path, responder),
    requests: matching,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Polls `check` until it returns a truthy value and returns that value; throws after `timeoutMs` with the
 * description of what was awaited.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
