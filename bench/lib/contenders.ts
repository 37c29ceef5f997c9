/**
 * The caches under test, each set up the way its own documentation shows, all on the same servers, with
 * the same fresh period and the same long stale period, reading through the same slow source.
 */
import { cachified, createCacheEntry } from "@epic-web/cachified";
import { Client } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import { createCache, Namespace } from "@unkey/cache";
import { UpstashRedisStore } from "@unkey/cache/stores";
import { BentoCache, bentostore } from "bentocache";
import { redisDriver } from "bentocache/drivers/redis";
import { Redis as IORedis } from "ioredis";
import { upstashCachifiedAdapter } from "./cachified-adapter.js";
import { lib } from "./package.js";
import { fetchFromSource } from "./source.js";

/** The libraries compared. */
export const LIBRARIES = ["next-cacheback", "cachified", "bentocache", "unkey"] as const;
export type Library = (typeof LIBRARIES)[number];

/** How each library appears in tables and charts. */
export const LABELS: Record<Library, string> = {
  "next-cacheback": "next-cacheback",
  cachified: "@epic-web/cachified 5",
  bentocache: "bentocache 1",
  unkey: "@unkey/cache 1",
};

/** The transport a library reads through, and the bare `get` it is measured against. */
export const TRANSPORT: Record<Library, "upstash" | "ioredis"> = {
  "next-cacheback": "upstash",
  cachified: "upstash",
  bentocache: "ioredis",
  unkey: "upstash",
};

/** The job name next-cacheback's entries are read and refreshed under. */
export const JOB = "item";

/** Where everything lives, and the periods every library is given. */
export interface ContenderConfig {
  redisUrl: string;
  redisToken: string;
  qstashUrl: string;
  qstashToken: string;
  /** next-cacheback's refresh route (served by the benchmark's main process). */
  refreshUrl: string;
  sourceUrl: string;
  /** The real redis-server, for ioredis. */
  ioredisUrl: string;
  /** A prefix unique to this run, so runs and libraries never share a key. */
  prefix: string;
  /** How long a value is fresh, ms. */
  freshMs: number;
  /** How long after that a stale value is still served (while it is refreshed), ms. */
  staleMs: number;
  /**
   * Collect each read's background work (cachified's and unkey's `waitUntil`, next-cacheback's
   * `result.background`) so `settle()` can await it, as a serverless platform's `waitUntil` would.
   */
  collectBackground?: boolean;
  /** next-cacheback only: count its events by type (`hit` and `stale` served from memory as `hit-memory`, `stale-memory`); see `Contender.tally`. */
  tally?: boolean;
  /** next-cacheback only: `batchWindow`, and the `memory` tier as an instance default. */
  cacheback?: { batchWindow?: number; memory?: { lifetime: number } };
}

/** What a read gave. */
export interface ReadOutcome {
  value: unknown;
}

/** One library, ready to read. */
export interface Contender {
  readonly library: Library;
  /** Reads `key` through the cache; the fetcher is the slow source. */
  read(key: string): Promise<ReadOutcome>;
  /**
   * The library's own read of `key`, called as its docs show, with nothing of the benchmark's around it
   * (no status object, no wrapping): what the hit comparison times.
   */
  hitOp(key: string): () => Promise<unknown>;
  /** Stores `value` under `key` as that library would, already stale (past its fresh period, within its stale period). */
  seedStale(key: string, value: unknown): Promise<void>;
  /** Stores `value` under `key`, fresh. */
  seedFresh(key: string, value: unknown): Promise<void>;
  /** Stores `value` under `key`, fresh for `ms` more (as if written `freshMs - ms` ago), then stale. */
  seedFreshFor(key: string, value: unknown, ms: number): Promise<void>;
  /** The Redis key the entry of `key` lives under. */
  rawKey(key: string): string;
  /** next-cacheback with `tally`: its events so far, by type. */
  tally?(): Record<string, number>;
  /** The library's own connection to redis-server, when it talks the Redis protocol itself. */
  readonly connection?: IORedis;
  /** Awaits the background work collected so far (see `collectBackground`); resolves with how long that took, ms. */
  settle(): Promise<number>;
  close(): Promise<void>;
}

/** A client of the dev Redis REST server, as an app would make it. */
export function upstashClient(config: Pick<ContenderConfig, "redisUrl" | "redisToken">): Redis {
  return new Redis({ url: config.redisUrl, token: config.redisToken, enableTelemetry: false });
}

/** A client of the real redis-server, as an app would make it. */
export function ioredisClient(config: Pick<ContenderConfig, "ioredisUrl">, name: string): IORedis {
  return new IORedis(config.ioredisUrl, { connectionName: name, lazyConnect: false });
}

function backgroundSet() {
  const pending = new Set<Promise<unknown>>();
  return {
    add(p: Promise<unknown>) {
      const tracked = p.catch(() => undefined);
      pending.add(tracked);
      void tracked.finally(() => pending.delete(tracked));
    },
    async settle(): Promise<number> {
      const started = performance.now();
      while (pending.size > 0) await Promise.all([...pending]);
      return performance.now() - started;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function nextCacheback(config: ContenderConfig): Contender {
  const cb = new lib.Cacheback({
    redis: upstashClient(config),
    qstash: new Client({ baseUrl: config.qstashUrl, token: config.qstashToken }),
    refreshUrl: config.refreshUrl,
    prefix: `${config.prefix}:`,
    defaults: {
      lifetime: config.freshMs / 1000,
      ttl: (config.freshMs + config.staleMs) / 1000,
      ...(config.cacheback?.memory ? { memory: config.cacheback.memory } : {}),
    },
    ...(config.cacheback?.batchWindow !== undefined ? { batchWindow: config.cacheback.batchWindow } : {}),
  });
  const background = backgroundSet();
  const fetcher = (key: string) => fetchFromSource(config.sourceUrl, key);
  const tally: Record<string, number> = {};
  if (config.tally) {
    cb.on("*", (e) => {
      const type = (e.type === "hit" || e.type === "stale") && e.memory ? `${e.type}-memory` : e.type;
      tally[type] = (tally[type] ?? 0) + 1;
    });
  }
  return {
    library: "next-cacheback",
    ...(config.tally ? { tally: () => ({ ...tally }) } : {}),
    async read(key) {
      const result = await cb.fetchWithStatus([JOB, key], fetcher);
      if (config.collectBackground) background.add(result.background);
      return { value: result.value };
    },
    hitOp: (key) => () => cb.fetch([JOB, key], fetcher),
    seedStale: (key, value) => cb.set([JOB, key], value, { lifetime: 0 }),
    seedFresh: (key, value) => cb.set([JOB, key], value),
    seedFreshFor: (key, value, ms) => cb.set([JOB, key], value, { lifetime: ms / 1000 }),
    rawKey: (key) => cb.key([JOB, key]),
    settle: () => background.settle(),
    close: async () => undefined,
  };
}

function cachifiedContender(config: ContenderConfig): Contender {
  const cache = upstashCachifiedAdapter(upstashClient(config));
  const background = backgroundSet();
  const waitUntil = config.collectBackground ? (p: Promise<unknown>) => background.add(p) : undefined;
  const keyOf = (key: string) => `${config.prefix}:${key}`;
  return {
    library: "cachified",
    async read(key) {
      const value = await cachified({
        key: keyOf(key),
        cache,
        ttl: config.freshMs,
        swr: config.staleMs,
        getFreshValue: () => fetchFromSource(config.sourceUrl, key),
        ...(waitUntil ? { waitUntil } : {}),
      });
      return { value };
    },
    hitOp: (key) => () => cachified({ key: keyOf(key), cache, ttl: config.freshMs, swr: config.staleMs, getFreshValue: () => fetchFromSource(config.sourceUrl, key) }),
    seedStale: async (key, value) => {
      await cache.set(keyOf(key), createCacheEntry(value, { ttl: config.freshMs, swr: config.staleMs, createdTime: Date.now() - config.freshMs - 1 }));
    },
    seedFresh: async (key, value) => {
      await cache.set(keyOf(key), createCacheEntry(value, { ttl: config.freshMs, swr: config.staleMs }));
    },
    seedFreshFor: async (key, value, ms) => {
      await cache.set(keyOf(key), createCacheEntry(value, { ttl: config.freshMs, swr: config.staleMs, createdTime: Date.now() - (config.freshMs - ms) }));
    },
    rawKey: keyOf,
    settle: () => background.settle(),
    close: async () => undefined,
  };
}

function bentocacheContender(config: ContenderConfig): Contender {
  const connection = ioredisClient(config, "bench-bentocache");
  const bento = new BentoCache({
    default: "redis",
    prefix: config.prefix,
    stores: { redis: bentostore().useL2Layer(redisDriver({ connection })) },
  });
  const options = { ttl: config.freshMs, grace: config.staleMs, timeout: 0 };
  return {
    library: "bentocache",
    async read(key) {
      const value = await bento.getOrSet({ key, factory: () => fetchFromSource(config.sourceUrl, key), ...options });
      return { value };
    },
    hitOp: (key) => () => bento.getOrSet({ key, factory: () => fetchFromSource(config.sourceUrl, key), ...options }),
    seedStale: async (key, value) => {
      await bento.set({ key, value, ttl: 20, grace: config.staleMs });
      await sleep(40);
    },
    seedFresh: async (key, value) => {
      await bento.set({ key, value, ...options });
    },
    seedFreshFor: async (key, value, ms) => {
      await bento.set({ key, value, ...options, ttl: ms });
    },
    rawKey: (key) => `${config.prefix}:${key}`,
    connection,
    settle: async () => 0,
    close: async () => {
      await bento.disconnectAll();
    },
  };
}

function unkeyContender(config: ContenderConfig): Contender {
  const background = backgroundSet();
  // unkey's stateful context: on a serverless platform it is the platform's own (with waitUntil).
  const ctx = { waitUntil: (p: Promise<unknown>) => (config.collectBackground ? background.add(p) : undefined) };
  const namespace = `${config.prefix}:item`;
  const cache = createCache({
    [namespace]: new Namespace<unknown>(ctx, {
      stores: [new UpstashRedisStore({ redis: upstashClient(config) })],
      fresh: config.freshMs,
      stale: config.freshMs + config.staleMs,
    }),
  })[namespace]!;
  return {
    library: "unkey",
    async read(key) {
      const result = await cache.swr(key, (k) => fetchFromSource(config.sourceUrl, k));
      if (result.err) throw result.err;
      return { value: result.val };
    },
    hitOp: (key) => () => cache.swr(key, (k) => fetchFromSource(config.sourceUrl, k)),
    seedStale: async (key, value) => {
      await cache.set(key, value, { fresh: 0, stale: config.freshMs + config.staleMs });
    },
    seedFresh: async (key, value) => {
      await cache.set(key, value);
    },
    seedFreshFor: async (key, value, ms) => {
      await cache.set(key, value, { fresh: ms, stale: config.freshMs + config.staleMs });
    },
    rawKey: (key) => `${namespace}::${key}`,
    settle: () => background.settle(),
    close: async () => undefined,
  };
}

/** Makes a contender of `library` with `config`. */
export function makeContender(library: Library, config: ContenderConfig): Contender {
  switch (library) {
    case "next-cacheback":
      return nextCacheback(config);
    case "cachified":
      return cachifiedContender(config);
    case "bentocache":
      return bentocacheContender(config);
    case "unkey":
      return unkeyContender(config);
  }
}
