import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { closedPort } from "./recording-receiver.js";

/** A redis-server child process of a test's own, on a port of its own, that the test may stop and start again. */
export interface RedisProcess {
  /** The port it listens on (kept across restarts). */
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Whether the process is running right now. */
  readonly running: boolean;
  /** Kills the process (SIGKILL: a crash, nothing flushed) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty (nothing is persisted), and waits until it answers PING. */
  start(): Promise<void>;
  /** Sends one command over a fresh connection and returns the raw RESP reply. */
  command(...args: (string | number)[]): Promise<string>;
  /** Stops it for good. */
  close(): Promise<void>;
}

function encode(args: (string | number)[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${String(a)}\r\n`).join("")}`;
}

/** Sends one command to 127.0.0.1:port and resolves with the first complete reply line(s) it gets. */
export function rawRedisCommand(port: number, args: (string | number)[], timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on port ${port} did not answer ${String(args[0])} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("connect", () => socket.write(encode(args)));
    socket.on("data", (chunk) => {
      data += chunk.toString("utf8");
      if (complete(data)) {
        clearTimeout(timer);
        socket.end();
        resolve(data);
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Whether `data` holds one whole RESP reply (simple, error, integer or bulk string; enough for our commands). */
function complete(data: string): boolean {
  if (!data.includes("\r\n")) return false;
  if (data[0] !== "$") return true;
  const header = data.slice(1, data.indexOf("\r\n"));
  const length = Number(header);
  if (length < 0) return true;
  return Buffer.byteLength(data) >= header.length + 3 + length + 2;
}

/** Options of {@link startRedisProcess}. */
export interface RedisProcessOptions {
  /**
   * A directory for an append-only file written on every command (`--appendonly yes --appendfsync always`),
   * so the data survives a kill and restart. Unset keeps nothing: a restart starts empty.
   * @default undefined
   */
  persistDir?: string;
}

/**
 * Starts `redis-server --port <free> --save "" --appendonly no` (or with an append-only file, see
 * {@link RedisProcessOptions}) as a child process and waits until it answers PING. Other suites keep
 * using the shared server on 6379; this one is the test's to break.
 */
export async function startRedisProcess(options: RedisProcessOptions = {}): Promise<RedisProcess> {
  const port = await closedPort();
  const persistence = options.persistDir
    ? ["--dir", options.persistDir, "--appendonly", "yes", "--appendfsync", "always"]
    : ["--appendonly", "no"];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    if (child) return;
    const proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence], {
      stdio: "ignore",
    });
    child = proc;
    exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    void exited.then(() => {
      if (child === proc) child = undefined;
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        if ((await rawRedisCommand(port, ["PING"], 500)).startsWith("+PONG")) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc) return;
    proc.kill("SIGKILL");
    await exited;
    child = undefined;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined;
    },
    stop,
    start,
    command: (...args) => rawRedisCommand(port, args),
    close: stop,
  };
}
