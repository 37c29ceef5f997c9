/**
 * The dev servers (`startDevServers`: the Redis REST server bridged onto the real redis-server, and the
 * QStash server) in a process of their own, as Upstash is a service of its own: the benchmark's clients
 * never share an event loop with the server they measure. Driven over IPC by `servers.ts`.
 */
import { dev } from "./package.js";
import type { ServerReply, ServerRequest } from "./servers.js";

const servers = await dev.startDevServers({ redis: { port: 0 }, qstash: { port: 0 } });

function send(message: ServerReply): void {
  process.send?.(message);
}

// The benchmark that forked this process went away without asking it to close (killed, or a timeout
// ended it): close the servers and exit, rather than keep listening with nobody to use them.
process.once("disconnect", () => {
  void servers.close().finally(() => process.exit(0));
});

process.on("message", (raw: ServerRequest) => {
  void (async () => {
    switch (raw.type) {
      case "stats":
        send({ type: "stats", id: raw.id, stats: servers.redis.stats(), cpu: process.cpuUsage() });
        return;
      case "reset":
        servers.redis.resetStats();
        send({ type: "ok", id: raw.id });
        return;
      case "messages": {
        const byState: Record<string, number> = {};
        let matching = 0;
        for (const message of servers.qstash.engine.messages()) {
          if (raw.bodyIncludes !== undefined && !(message.body ?? "").includes(raw.bodyIncludes)) continue;
          matching++;
          byState[message.state] = (byState[message.state] ?? 0) + 1;
        }
        send({ type: "messages", id: raw.id, total: matching, byState });
        return;
      }
      case "idle":
        await servers.qstash.engine.idle();
        send({ type: "ok", id: raw.id });
        return;
      case "close":
        await servers.close();
        send({ type: "ok", id: raw.id });
        process.exit(0);
    }
  })();
});

send({ type: "ready", env: servers.env, redisUrl: servers.redis.url, redisToken: servers.redis.token, qstashUrl: servers.qstash.url });
