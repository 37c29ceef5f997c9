import { Client } from "@upstash/qstash";
import { Redis as IORedis } from "ioredis";
import { serveFetch, type ServedHandler } from "../../test/helpers/serve-fetch.js";
import { JOB, upstashClient, type ContenderConfig, type Library } from "./contenders.js";
import { until } from "./measure.js";
import { lib } from "./package.js";
import { redisMonitor, type RedisMonitor } from "./redis-monitor.js";
import { startServerProcess, type ServerProcess } from "./servers.js";
import { fetchFromSource, startSlowSource, type SlowSource } from "./source.js";

/** The real redis-server every comparison runs on. */
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Everything the comparisons share: servers, the slow source, next-cacheback's refresh route, a Redis monitor. */
export interface BenchContext {
  readonly servers: ServerProcess;
  readonly source: SlowSource;
  /** Serves next-cacheback's refresh route at `/api/cacheback`, as the app would. */
  readonly app: ServedHandler;
  readonly refreshUrl: string;
  /** A plain connection to redis-server, for inspecting what each library stored. */
  readonly admin: IORedis;
  readonly monitor: RedisMonitor;
  /** Key prefix of this run (every key the run writes starts with it). */
  readonly runPrefix: string;
  /** Contender configuration for `library` with the given periods. */
  config(library: Library, periods: { freshMs: number; staleMs: number }, extra?: Partial<ContenderConfig>): ContenderConfig;
  /** Statuses the refresh route answered (`written`, `skipped-fresh`...) for messages about `key`. */
  routeAnswers(key: string): Record<string, number>;
  /** Resolves once `rawKey` holds something in Redis. */
  stored(rawKey: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts the servers (in their own process), the slow source and the refresh route. */
export async function startBenchContext(sourceDelayMs: number): Promise<BenchContext> {
  const servers = await startServerProcess();
  const source = await startSlowSource(sourceDelayMs);
  const runPrefix = `bench:${Date.now().toString(36)}`;
  const oursPrefix = `${runPrefix}:next-cacheback`;
  let handler: (request: Request) => Promise<Response> = async () => new Response("starting", { status: 503 });
  const app = await serveFetch({ "/api/cacheback": (request) => handler(request) });
  const refreshUrl = `${app.origin}/api/cacheback`;
  const routeInstance = new lib.Cacheback({
    redis: upstashClient(servers),
    qstash: new Client({ baseUrl: servers.qstashUrl, token: servers.qstashToken }),
    refreshUrl,
    signingKeys: servers.signingKeys,
    prefix: `${oursPrefix}:`,
  });
  handler = routeInstance.createRefreshHandler({ jobs: { [JOB]: (key: string) => fetchFromSource(source.url, key) } });
  const admin = new IORedis(REDIS_URL, { connectionName: "bench-admin" });
  const monitor = redisMonitor(REDIS_URL);

  return {
    servers,
    source,
    app,
    refreshUrl,
    admin,
    monitor,
    runPrefix,
    config: (library, periods, extra = {}) => ({
      redisUrl: servers.redisUrl,
      redisToken: servers.redisToken,
      qstashUrl: servers.qstashUrl,
      qstashToken: servers.qstashToken,
      refreshUrl,
      sourceUrl: source.url,
      ioredisUrl: REDIS_URL,
      prefix: `${runPrefix}:${library}`,
      ...periods,
      ...extra,
    }),
    routeAnswers: (key) => {
      const byStatus: Record<string, number> = {};
      for (const answer of app.answers) {
        let parsed: { key?: string; status?: string } = {};
        try {
          parsed = JSON.parse(answer.body) as typeof parsed;
        } catch {
          // not JSON: counted by HTTP status below
        }
        if (parsed.key !== undefined && !parsed.key.endsWith(`${JSON.stringify([key])}`)) continue;
        const status = parsed.status ?? `http-${answer.status}`;
        byStatus[status] = (byStatus[status] ?? 0) + 1;
      }
      return byStatus;
    },
    stored: (rawKey) => until(`${rawKey} in Redis`, async () => (await admin.exists(rawKey)) === 1, 5_000, 5),
    close: async () => {
      let cursor = "0";
      do {
        const [next, keys] = await admin.scan(cursor, "MATCH", `${runPrefix}:*`, "COUNT", 1000);
        if (keys.length > 0) await admin.unlink(...keys);
        cursor = next;
      } while (cursor !== "0");
      await monitor.close();
      admin.disconnect();
      await app.close();
      await source.close();
      await servers.close();
    },
  };
}
