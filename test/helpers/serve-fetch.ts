import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A fetch-style handler (what a Next.js route handler exports) served over real HTTP. */
export interface ServedHandler {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  readonly origin: string;
  /** Answers given, in order: path, status and body. */
  readonly answers: { path: string; status: number; body: string }[];
  close(): Promise<void>;
}

async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
  return new Request(new URL(req.url ?? "/", origin), {
    method: req.method,
    headers,
    body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
  });
}

/** Serves `routes` (path → handler) on 127.0.0.1 and an ephemeral port. */
export async function serveFetch(routes: Record<string, (request: Request) => Promise<Response>>): Promise<ServedHandler> {
  const answers: ServedHandler["answers"] = [];
  let origin = "";
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? "/").split("?")[0] as string;
      const handler = routes[path];
      let response: Response;
      try {
        response = handler ? await handler(await toRequest(req, origin)) : new Response("not found", { status: 404 });
      } catch (error) {
        response = new Response(`handler threw: ${String(error)}`, { status: 500 });
      }
      const text = await response.text();
      answers.push({ path, status: response.status, body: text });
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(text);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
