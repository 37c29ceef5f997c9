import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { RedisRestStats } from "../../packages/dev/src/index.js";

/** A request to the server process. */
export type ServerRequest =
  | { type: "stats" | "reset" | "idle" | "close"; id: number }
  | { type: "messages"; id: number; bodyIncludes?: string };

/** What the server process answers. */
export type ServerReply =
  | { type: "ready"; env: Record<string, string>; redisUrl: string; redisToken: string; qstashUrl: string }
  | { type: "stats"; id: number; stats: RedisRestStats; cpu: NodeJS.CpuUsage }
  | { type: "messages"; id: number; total: number; byState: Record<string, number> }
  | { type: "ok"; id: number };

/** The dev servers running in their own process. */
export interface ServerProcess {
  /** The six variables an app reads (Redis REST URL/token, QStash URL/token/signing keys). */
  readonly env: Record<string, string>;
  readonly redisUrl: string;
  readonly redisToken: string;
  readonly qstashUrl: string;
  readonly qstashToken: string;
  readonly signingKeys: { current: string; next: string };
  /** REST requests and commands served since the last reset, and the server process's CPU time so far. */
  stats(): Promise<{ stats: RedisRestStats; cpu: NodeJS.CpuUsage }>;
  resetStats(): Promise<void>;
  /** QStash messages published so far (optionally only those whose body contains a string), by state. */
  messages(bodyIncludes?: string): Promise<{ total: number; byState: Record<string, number> }>;
  /** Resolves once QStash has nothing waiting or in flight. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL("./server-process.ts", import.meta.url));

/** Forks `server-process.ts` (under tsx) and waits until both servers listen. */
export async function startServerProcess(): Promise<ServerProcess> {
  const child: ChildProcess = fork(ENTRY, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let nextId = 1;
  const waiting = new Map<number, (reply: ServerReply) => void>();
  const ready = new Promise<Extract<ServerReply, { type: "ready" }>>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the dev server process exited with ${code} before it was ready`)));
    child.on("message", (reply: ServerReply) => {
      if (reply.type === "ready") resolve(reply);
      else waiting.get(reply.id)?.(reply);
    });
  });
  const info = await ready;
  const ask = <T extends ServerReply>(request: Omit<ServerRequest, "id"> & { type: ServerRequest["type"] }): Promise<T> => {
    const id = nextId++;
    return new Promise<T>((resolve) => {
      waiting.set(id, (reply) => {
        waiting.delete(id);
        resolve(reply as T);
      });
      child.send({ ...request, id });
    });
  };
  return {
    env: info.env,
    redisUrl: info.redisUrl,
    redisToken: info.redisToken,
    qstashUrl: info.qstashUrl,
    qstashToken: info.env.QSTASH_TOKEN as string,
    signingKeys: { current: info.env.QSTASH_CURRENT_SIGNING_KEY as string, next: info.env.QSTASH_NEXT_SIGNING_KEY as string },
    stats: async () => {
      const reply = await ask<Extract<ServerReply, { type: "stats" }>>({ type: "stats" });
      return { stats: reply.stats, cpu: reply.cpu };
    },
    resetStats: async () => {
      await ask({ type: "reset" });
    },
    messages: async (bodyIncludes?: string) => {
      const reply = await ask<Extract<ServerReply, { type: "messages" }>>({ type: "messages", ...(bodyIncludes ? { bodyIncludes } : {}) });
      return { total: reply.total, byState: reply.byState };
    },
    idle: async () => {
      await ask({ type: "idle" });
    },
    close: async () => {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.send({ type: "close", id: nextId++ });
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
