/**
 * Cost of a cache hit: `cachebackFetch` on a fresh entry vs a bare `redis.get` of the same key, with the
 * same @upstash/redis client, against `next-cacheback dev` on the local redis-server. Round trips and
 * commands are counted at the REST server.
 *
 *   npx tsx bench/hit.ts [iterations]
 */
import { Redis } from "@upstash/redis";
import { Cacheback } from "../src/cacheback.js";
import { startDevServers } from "../src/dev/index.js";

const iterations = Number(process.argv[2] ?? 5000);
const servers = await startDevServers({ redis: { port: 0 }, qstash: { port: 0 } });
const redis = new Redis({ url: servers.redis.url, token: servers.redis.token, enableTelemetry: false });
const cb = new Cacheback({ redis, prefix: `bench:hit:${Date.now()}:`, queue: { name: "none", publish: async () => ({ messageId: "-" }) } });

const value = { id: 42, title: "A post title of moderate length", tags: ["a", "b", "c"], body: "x".repeat(400) };
await cb.fetch(["post", 42], async () => value, { lifetime: 3600 });
await new Promise((r) => setTimeout(r, 100));
const rawKey = cb.key(["post", 42]);

async function measure(label: string, op: () => Promise<unknown>) {
  for (let i = 0; i < 200; i++) await op(); // warm up
  servers.redis.resetStats();
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await op();
    times.push(performance.now() - t);
  }
  const total = performance.now() - start;
  const stats = servers.redis.stats();
  times.sort((a, b) => a - b);
  return {
    label,
    opsPerSec: Math.round((iterations / total) * 1000),
    p50ms: +times[Math.floor(iterations * 0.5)]!.toFixed(3),
    p99ms: +times[Math.floor(iterations * 0.99)]!.toFixed(3),
    roundTripsPerOp: stats.requests / iterations,
    commandsPerOp: stats.commands / iterations,
  };
}

const fetcher = async () => value;
// Alternate the two in rounds so JIT warm-up and machine noise fall on both alike; report the median round.
const rounds = 5;
const results: { bare: Awaited<ReturnType<typeof measure>>[]; ours: Awaited<ReturnType<typeof measure>>[] } = { bare: [], ours: [] };
for (let r = 0; r < rounds; r++) {
  results.bare.push(await measure("bare redis.get", () => redis.get(rawKey)));
  results.ours.push(await measure("cachebackFetch (fresh hit)", () => cb.fetch(["post", 42], fetcher, { lifetime: 3600 })));
}
const median = (xs: Awaited<ReturnType<typeof measure>>[]) => [...xs].sort((a, b) => a.opsPerSec - b.opsPerSec)[Math.floor(xs.length / 2)]!;
const bare = median(results.bare);
const ours = median(results.ours);
console.log(`${rounds} alternating rounds of ${iterations} sequential hits each; median round shown`);
console.table([bare, ours]);
console.log(`ratio (ours / bare, throughput): ${(ours.opsPerSec / bare.opsPerSec).toFixed(3)}`);
await servers.close();
process.exit(0);
