import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Client } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cacheback } from "../../src/cacheback.js";
import { startDevServers, type DevServers } from "../../packages/dev/src/index.js";
import { ensureBuilt, ROOT } from "../helpers/built-package.js";
import { closedPort } from "../helpers/recording-receiver.js";
import { serveFetch, type ServedHandler } from "../helpers/serve-fetch.js";
import { eventually, randomPrefix } from "../helpers/wait.js";

const run = promisify(execFile);

let servers: DevServers;
let app: ServedHandler;
let cb: Cacheback;
let sourceCalls = 0;
// The refresh waits on this gate, so every reader of both processes sees the entry stale.
let openGate: () => void = () => undefined;
let gate: Promise<void> = Promise.resolve();
const prefix = randomPrefix("procs");

beforeAll(async () => {
  ensureBuilt();
  servers = await startDevServers({ redis: { port: 0 }, qstash: { port: 0, retryDelayScale: 0.001 } });
  let handler: (r: Request) => Promise<Response> = async () => new Response("starting", { status: 503 });
  app = await serveFetch({ "/api/cacheback": (r) => handler(r) });
  cb = new Cacheback({
    redis: new Redis({ url: servers.redis.url, token: servers.redis.token }),
    qstash: new Client({ baseUrl: servers.qstash.url, token: servers.qstash.token }),
    refreshUrl: `${app.origin}/api/cacheback`,
    signingKeys: { current: servers.qstash.currentSigningKey, next: servers.qstash.nextSigningKey },
    prefix,
  });
  handler = cb.createRefreshHandler({
    jobs: {
      quote: async (symbol: string) => {
        sourceCalls++;
        await gate;
        return { symbol, from: "refresh" };
      },
    },
  });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await servers?.close();
});

describe("several processes", () => {
  it("1,000 concurrent stale reads from 2 processes publish one message and run the source once", async () => {
    await cb.set(["quote", "MP"], { symbol: "MP", from: "seed" }, { lifetime: 0 });
    gate = new Promise<void>((resolve) => (openGate = resolve));
    const env = {
      PATH: process.env.PATH,
      ...servers.env,
      CACHEBACK_REFRESH_URL: `${app.origin}/api/cacheback`,
      CACHEBACK_PREFIX: prefix,
      READ_KEY: "MP",
      READERS: "500",
    };
    const outputs = await Promise.all(
      [1, 2].map(() => run(process.execPath, ["test/fixtures/stale-reader.mjs"], { cwd: ROOT, env, timeout: 60_000 })),
    );
    openGate();
    const seen = outputs.map((o) => JSON.parse(o.stdout.trim().split("\n").at(-1)!) as { statuses: Record<string, number> });
    expect(seen.map((s) => s.statuses)).toEqual([{ stale: 500 }, { stale: 500 }]);

    await eventually("the refresh", async () => (await cb.peek(["quote", "MP"])).status === "hit");
    await servers.qstash.engine.idle();
    const messages = servers.qstash.engine.messages().filter((m) => m.body?.includes('"args":["MP"]'));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.state).toBe("DELIVERED");
    expect(sourceCalls).toBe(1);
    expect((await cb.peek(["quote", "MP"])).value).toEqual({ symbol: "MP", from: "refresh" });
  }, 60_000);

  it("with no env at all the embedded default works: local queue, signed delivery to the route, and a notice", async () => {
    const port = await closedPort();
    const { stdout, stderr } = await run(process.execPath, ["test/fixtures/embedded-app.mjs"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PORT: String(port) },
      timeout: 30_000,
    });
    const lines = stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { step: string; status: string; value: unknown });
    expect(lines).toEqual([
      { step: "first", status: "miss", value: { version: 1 } },
      { step: "refreshed", status: "hit", value: { version: 2 } },
      { step: "hit", status: "hit", value: { version: 2 } },
    ]);
    expect(stdout + stderr).toContain("using the embedded default");
  }, 60_000);

  it("under NODE_ENV=production the embedded default warns that each instance has its own cache", async () => {
    const port = await closedPort();
    const { stderr } = await run(process.execPath, ["test/fixtures/embedded-app.mjs"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PORT: String(port), NODE_ENV: "production" },
      timeout: 30_000,
    });
    expect(stderr).toContain("WARNING: running in production on the embedded default");
    expect(stderr).toContain("Each server instance has its own in-memory cache");
  }, 60_000);
});
