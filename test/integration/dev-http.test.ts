/**
 * The HTTP rules both dev servers share (packages/dev/src/http.ts): one body limit with one behaviour, one
 * bearer-token check, one error shape. Every case runs against the Redis REST server and the QStash server.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQStashServer, startRedisRestServer, type QStashServer, type RedisRestServer } from "../../packages/dev/src/index.js";
import { waitFor } from "../helpers/recording-receiver.js";

const LIMIT = 1024;

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One keep-alive connection that sends raw HTTP/1.1 and reads the answers in order. */
class RawConnection {
  private buffer = Buffer.alloc(0);
  private closed = false;
  private readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect(port, "127.0.0.1");
    this.socket.on("data", (chunk: Buffer) => (this.buffer = Buffer.concat([this.buffer, chunk])));
    this.socket.on("close", () => (this.closed = true));
    this.socket.on("error", () => (this.closed = true));
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next complete answer (a Content-Length body), or undefined when the server closed first. */
  async next(): Promise<RawResponse | undefined> {
    const parsed = await waitFor("an HTTP answer or the connection closing", () => this.parse() ?? (this.closed ? "closed" : false), 10_000);
    return parsed === "closed" ? undefined : parsed;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves once the server has closed the connection. */
  async whenClosed(): Promise<void> {
    await waitFor("the server to close the connection", () => this.closed, 10_000);
  }

  end(): void {
    this.socket.destroy();
  }

  private parse(): RawResponse | undefined {
    const end = this.buffer.indexOf("\r\n\r\n");
    if (end === -1) return undefined;
    const [statusLine, ...lines] = this.buffer.subarray(0, end).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    if (this.buffer.length < end + 4 + length) return undefined;
    const body = this.buffer.subarray(end + 4, end + 4 + length).toString("utf8");
    this.buffer = this.buffer.subarray(end + 4 + length);
    return { status: Number(statusLine!.split(" ")[1]), headers, body };
  }
}

interface Target {
  name: string;
  port: () => number;
  token: () => string;
  /** A request path that reads a body and needs the token. */
  post: string;
  /** A small request that succeeds, to prove the connection is still usable. */
  ok: (token: string) => string;
}

let redis: RedisRestServer;
let qstash: QStashServer;

const targets: Target[] = [
  {
    name: "the Redis REST server",
    port: () => redis.port,
    token: () => redis.token,
    post: "/",
    ok: (token) => `POST / HTTP/1.1\r\nHost: dev\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n["ping"]`,
  },
  {
    name: "the QStash server",
    port: () => qstash.port,
    token: () => qstash.token,
    post: "/v2/publish/http://127.0.0.1:9/never",
    ok: (token) => `GET /v2/keys HTTP/1.1\r\nHost: dev\r\nAuthorization: Bearer ${token}\r\n\r\n`,
  },
];

function head(target: Target, headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `POST ${target.post} HTTP/1.1\r\nHost: dev\r\n${lines.join("\r\n")}\r\n\r\n`;
}

beforeAll(async () => {
  redis = await startRedisRestServer({ port: 0, maxBodyBytes: LIMIT });
  qstash = await startQStashServer({ port: 0, maxBodyBytes: LIMIT, retryDelayScale: 0.001 });
});

afterAll(async () => {
  await redis?.close();
  await qstash?.close();
});

describe.each(targets)("$name", (target) => {
  it("a body whose Content-Length is over the limit: 413 once the body is read, and the connection stays usable", async () => {
    const connection = new RawConnection(target.port());
    try {
      connection.write(head(target, { authorization: `Bearer ${target.token()}`, "content-type": "text/plain", "content-length": 2 * LIMIT }));
      connection.write("x".repeat(LIMIT));
      connection.write("y".repeat(LIMIT));
      const refused = await connection.next();
      expect(refused?.status).toBe(413);
      expect(JSON.parse(refused!.body)).toEqual({ error: `The request body is larger than the limit of ${LIMIT} bytes.` });
      expect(refused!.headers.connection).not.toBe("close");
      connection.write(target.ok(target.token()));
      expect((await connection.next())?.status).toBe(200);
    } finally {
      connection.end();
    }
  });

  it("a chunked body that grows over the limit: the same 413", async () => {
    const connection = new RawConnection(target.port());
    try {
      connection.write(head(target, { authorization: `Bearer ${target.token()}`, "transfer-encoding": "chunked" }));
      for (let i = 0; i < 3; i++) connection.write(`${(600).toString(16)}\r\n${"z".repeat(600)}\r\n`);
      connection.write("0\r\n\r\n");
      const refused = await connection.next();
      expect(refused?.status).toBe(413);
      expect(JSON.parse(refused!.body).error).toMatch(/larger than the limit of 1024 bytes/);
      connection.write(target.ok(target.token()));
      expect((await connection.next())?.status).toBe(200);
    } finally {
      connection.end();
    }
  });

  it("a wrong token of any length, or another scheme: 401 with a JSON error", async () => {
    const token = target.token();
    for (const authorization of [`Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, "Bearer x", `Basic ${token}`, `Bearer ${token.toUpperCase()}`]) {
      const res = await fetch(`http://127.0.0.1:${target.port()}${target.post}`, { method: "POST", headers: { authorization }, body: "[]" });
      expect(res.status, authorization).toBe(401);
      expect(((await res.json()) as { error: string }).error).toMatch(/invalid token/i);
    }
    const missing = await fetch(`http://127.0.0.1:${target.port()}${target.post}`, { method: "POST", body: "[]" });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: string }).error).toMatch(/^Unauthorized/);
  });

  it("refused before its body is read: the answer says Connection: close, and the server closes the connection", async () => {
    const connection = new RawConnection(target.port());
    try {
      connection.write(head(target, { authorization: "Bearer wrong", "content-length": 10 }));
      const refused = await connection.next();
      expect(refused?.status).toBe(401);
      expect(refused!.headers.connection).toBe("close");
      connection.write("0123456789");
      await connection.whenClosed();
      expect(connection.isClosed).toBe(true);
    } finally {
      connection.end();
    }
  });
});
