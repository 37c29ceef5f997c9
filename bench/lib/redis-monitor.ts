import { Redis as IORedis } from "ioredis";

/** A running count of the commands Redis executed that match a test. */
export interface Counter {
  readonly count: number;
  /** The matching commands, as `name key` (first 200). */
  readonly seen: readonly string[];
}

/**
 * Counts, at the redis-server itself (MONITOR), the commands that match tests. MONITOR streams every
 * command of every client to this process, so it is on only while a counter is: never during timing.
 */
export interface RedisMonitor {
  /** Counts every command sent by the client at `address` (`ip:port`) from now on. */
  commandsFrom(address: string): Promise<Counter>;
  /** Counts every write (`SET` and friends, including those run inside Lua scripts) to `key` from now on. */
  writesTo(key: string): Promise<Counter>;
  /** Stops counting with `counter` (and stops monitoring when it was the last one). */
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

type Live = { count: number; seen: string[]; test: (args: string[], source: string) => boolean };

/** A monitor of the redis-server at `url`; it connects when the first counter starts. */
export function redisMonitor(url: string): RedisMonitor {
  const counters = new Set<Live>();
  let session: Promise<{ connection: IORedis; monitor: IORedis }> | undefined;

  const start = () =>
    (session ??= (async () => {
      const connection = new IORedis(url, { connectionName: "bench-monitor", lazyConnect: true });
      await connection.connect();
      const monitor = await connection.monitor();
      monitor.on("monitor", (_time: string, args: string[], source: string) => {
        for (const counter of counters) {
          if (!counter.test(args, source)) continue;
          counter.count++;
          if (counter.seen.length < 200) counter.seen.push(`${args[0]} ${args[1] ?? ""}`);
        }
      });
      return { connection, monitor };
    })());

  const stop = async () => {
    const current = session;
    session = undefined;
    if (!current) return;
    const { connection, monitor } = await current;
    monitor.disconnect();
    connection.disconnect();
  };

  const add = async (test: Live["test"]): Promise<Counter> => {
    const counter: Live = { count: 0, seen: [], test };
    counters.add(counter);
    await start();
    return counter;
  };

  return {
    commandsFrom: (address) => add((_args, source) => source === address),
    writesTo: (key) => add((args) => args[1] === key && WRITES.has((args[0] ?? "").toLowerCase())),
    drop: (counter) => {
      counters.delete(counter as Live);
      if (counters.size === 0) void stop();
    },
    close: stop,
  };
}
