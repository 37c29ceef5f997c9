import { Redis as IORedis } from "ioredis";

/** A running count of the commands Redis executed that match a test. */
export interface Counter {
  readonly count: number;
  /** The matching commands, as `name key` (first 200). */
  readonly seen: readonly string[];
}

/** Counts, at the redis-server itself (MONITOR), the commands that match tests. */
export interface RedisMonitor {
  /** Every command sent by the client at `address` (`ip:port`). */
  commandsFrom(address: string): Counter;
  /** Every write (`SET` and friends, including those run inside Lua scripts) to `key`. */
  writesTo(key: string): Counter;
  /** Stops counting with `counter`. */
  drop(counter: Counter): void;
  close(): Promise<void>;
}

const WRITES = new Set(["set", "setex", "psetex", "getset", "setnx"]);

/** The `ip:port` the server sees for an ioredis connection. */
export async function clientAddress(client: IORedis): Promise<string> {
  const info = (await client.call("CLIENT", "INFO")) as string;
  const match = /\baddr=(\S+)/.exec(info);
  if (!match) throw new Error(`CLIENT INFO gave no addr: ${info}`);
  return match[1] as string;
}

/** Opens a MONITOR connection to `url`. Everything other clients do passes through it: counters filter. */
export async function startRedisMonitor(url: string): Promise<RedisMonitor> {
  const connection = new IORedis(url, { connectionName: "bench-monitor" });
  const monitor = await connection.monitor();
  type Live = { count: number; seen: string[]; test: (args: string[], source: string) => boolean };
  const counters = new Set<Live>();
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    for (const counter of counters) {
      if (!counter.test(args, source)) continue;
      counter.count++;
      if (counter.seen.length < 200) counter.seen.push(`${args[0]} ${args[1] ?? ""}`);
    }
  });
  const add = (test: Live["test"]): Counter => {
    const counter: Live = { count: 0, seen: [], test };
    counters.add(counter);
    return counter;
  };
  return {
    commandsFrom: (address) => add((_args, source) => source === address),
    writesTo: (key) => add((args) => args[1] === key && WRITES.has((args[0] ?? "").toLowerCase())),
    drop: (counter) => counters.delete(counter as Live),
    close: async () => {
      monitor.disconnect();
      connection.disconnect();
    },
  };
}
