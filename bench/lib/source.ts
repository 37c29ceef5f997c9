import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What the slow source answers: a new generation of the item each call. */
export interface SourceValue {
  key: string;
  from: "origin";
  gen: number;
  body: string;
}

/** Per-key counts of the slow source. */
export interface SourceCounts {
  /** Calls that reached the source. */
  started: number;
  /** Calls whose answer went out to a caller still connected. */
  delivered: number;
  /** Calls still waiting on the source. */
  inFlight: number;
}

/** A slow upstream (a database, an API) shared by every process: each call waits `delayMs`, then answers. */
export interface SlowSource {
  /** `http://127.0.0.1:PORT`; an item is `GET /item/<key>`. */
  readonly url: string;
  /** How long each call takes, in ms. */
  delayMs: number;
  counts(key: string): SourceCounts;
  /** Calls in flight, all keys. */
  inFlight(): number;
  close(): Promise<void>;
}

/** Fetches one item from the source (the "fetcher" every contender is given). */
export async function fetchFromSource(sourceUrl: string, key: string): Promise<SourceValue> {
  const response = await fetch(`${sourceUrl}/item/${encodeURIComponent(key)}`);
  if (!response.ok) throw new Error(`the source answered ${response.status}`);
  return (await response.json()) as SourceValue;
}

/** Starts the slow source on 127.0.0.1 and an ephemeral port. */
export async function startSlowSource(delayMs: number): Promise<SlowSource> {
  const perKey = new Map<string, SourceCounts>();
  let inFlight = 0;
  const countsOf = (key: string): SourceCounts => {
    let c = perKey.get(key);
    if (!c) perKey.set(key, (c = { started: 0, delivered: 0, inFlight: 0 }));
    return c;
  };
  const source: { delayMs: number } = { delayMs };
  const server: Server = createServer((req, res) => {
    const match = /^\/item\/(.+)$/.exec(req.url ?? "");
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const key = decodeURIComponent(match[1] as string);
    const c = countsOf(key);
    c.started++;
    c.inFlight++;
    inFlight++;
    const gen = c.started;
    let gone = false;
    res.on("close", () => {
      if (!res.writableFinished) gone = true;
    });
    setTimeout(() => {
      c.inFlight--;
      inFlight--;
      if (gone || res.destroyed) return;
      const body = JSON.stringify({ key, from: "origin", gen, body: "y".repeat(400) } satisfies SourceValue);
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body, () => {
        if (!gone) c.delivered++;
      });
    }, source.delayMs);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    get delayMs() {
      return source.delayMs;
    },
    set delayMs(ms: number) {
      source.delayMs = ms;
    },
    counts: (key) => ({ ...countsOf(key) }),
    inFlight: () => inFlight,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
