import { Command, Redis, type Pipeline, type RedisOptions } from "ioredis";
import { describeError, RedisUnreachableError } from "../errors.js";
import type { RedisCommand } from "./commands.js";
import type { Placement } from "./policy.js";

/** What one command of a pipeline or transaction gave: a reply, or the error message Redis (or this server) gave. */
export type Outcome = { readonly reply: unknown; readonly error?: undefined } | { readonly error: string };

/** The connection state of a {@link RedisBridge}. */
export type BridgeState = "connecting" | "ready" | "unreachable" | "closed";

/** Options of {@link RedisBridge}. */
export interface RedisBridgeOptions {
  /** The Redis to connect to (`redis://`, `rediss://`). */
  url: string;
  /** Where connection changes are reported. @default no logging */
  log?: (line: string) => void;
  /** How long one connection attempt may take, in milliseconds. @default 2000 */
  connectTimeoutMs?: number;
}

const noop = (): void => {};

/** True for an error Redis itself answered (as opposed to a connection failure). */
export function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === "ReplyError";
}

/** The URL with any password hidden, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === "") return url;
    parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Names ioredis rewrites the arguments or reply of (hgetall into an object...); spelled otherwise, they pass as sent. */
const TRANSFORMED_BY_IOREDIS = new Set(["hgetall", "hset", "hmset", "mset", "msetnx"]);

function toCommand(command: RedisCommand): Command {
  const name = TRANSFORMED_BY_IOREDIS.has(command.name) ? command.name.toUpperCase() : command.name;
  return new Command(name, command.args, { replyEncoding: null });
}

/**
 * One Redis connection shared by every REST request (commands are pipelined on it as they arrive), plus
 * short-lived connections of their own for blocking commands. Replies keep their raw bytes (Buffers) and
 * integers their exact digits. While Redis is unreachable, calls fail at once with
 * {@link RedisUnreachableError} instead of queueing, and the connection keeps retrying in the background
 * so service resumes by itself.
 */
export class RedisBridge {
  /** The Redis URL with any password hidden. */
  readonly displayUrl: string;
  private readonly url: string;
  private readonly redisOptions: RedisOptions;
  private readonly redis: Redis;
  private readonly log: (line: string) => void;
  private readonly ownConnections = new Set<Redis>();
  private lastError: Error | undefined;
  private pendingReady: Promise<void> | undefined;
  private closed = false;

  constructor(options: RedisBridgeOptions) {
    this.url = options.url;
    this.displayUrl = redactRedisUrl(options.url);
    this.log = options.log ?? noop;
    this.redisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      enableAutoPipelining: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      stringNumbers: true,
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, 1_000),
      connectionName: "next-cacheback-dev",
    };
    this.redis = new Redis(this.url, this.redisOptions);
    this.redis.on("error", (error: Error) => {
      if (this.lastError === undefined) this.log(this.unreachable(error).message);
      this.lastError = error;
    });
    this.redis.on("ready", () => {
      this.log(`Connected to Redis at ${this.displayUrl}`);
      this.lastError = undefined;
    });
  }

  /** Starts connecting to Redis (in the background; see {@link RedisBridge.whenReady}). */
  connect(): void {
    if (this.redis.status === "wait") this.redis.connect().catch(noop);
  }

  /** The connection state right now. */
  get state(): BridgeState {
    if (this.closed) return "closed";
    if (this.redis.status === "ready") return "ready";
    return this.lastError === undefined ? "connecting" : "unreachable";
  }

  /**
   * `undefined` when the shared connection is ready. Otherwise a promise that resolves once it is, or
   * rejects with {@link RedisUnreachableError}: at once when the last attempt failed, else when the
   * connection attempt in progress fails.
   */
  whenReady(): Promise<void> | undefined {
    if (this.redis.status === "ready") return undefined;
    if (this.closed) return Promise.reject(new RedisUnreachableError("The Redis REST server is closing."));
    if (this.lastError !== undefined) return Promise.reject(this.unreachable(this.lastError));
    this.connect();
    this.pendingReady ??= new Promise<void>((resolve, reject) => {
      const settle = (): void => {
        this.redis.off("ready", onReady);
        this.redis.off("error", onError);
        this.redis.off("end", onEnd);
        this.pendingReady = undefined;
      };
      const onReady = (): void => {
        settle();
        resolve();
      };
      const onError = (error: Error): void => {
        settle();
        reject(this.unreachable(error));
      };
      const onEnd = (): void => {
        settle();
        reject(this.unreachable(new Error("the connection was closed")));
      };
      this.redis.on("ready", onReady);
      this.redis.on("error", onError);
      this.redis.on("end", onEnd);
    });
    return this.pendingReady;
  }

  /** Runs one command. Rejects with Redis's own error (a `ReplyError`) or {@link RedisUnreachableError}. */
  run(command: RedisCommand, placement: Placement): Promise<unknown> {
    if (placement === "dedicated") return this.onOwnConnection((redis) => this.send(redis, command));
    return this.send(this.redis, command);
  }

  /**
   * Runs commands in one pipeline (not atomic). `refused` entries are not sent and come back as their
   * error. A connection failure rejects the whole call with {@link RedisUnreachableError}.
   */
  pipeline(commands: ReadonlyArray<RedisCommand | Error>, placement: Placement): Promise<Outcome[]> {
    if (placement === "dedicated") return this.onOwnConnection((redis) => this.pipelineOn(redis, commands));
    return this.pipelineOn(this.redis, commands);
  }

  /**
   * Runs commands in MULTI/EXEC on the shared connection (written in one go, so nothing interleaves).
   * Runtime errors are per-entry outcomes; a transaction Redis aborts rejects with its `EXECABORT` error,
   * the queueing errors appended.
   */
  async transaction(commands: readonly RedisCommand[]): Promise<Outcome[]> {
    const tx = this.redis.multi() as unknown as Pipeline;
    for (const command of commands) tx.sendCommand(toCommand(command));
    let results: Array<[Error | null, unknown]> | null;
    try {
      results = (await tx.exec()) as Array<[Error | null, unknown]> | null;
    } catch (error) {
      throw this.translate(error, true);
    }
    if (results === null) throw Object.assign(new Error("EXECABORT Transaction aborted"), { name: "ReplyError" });
    return this.outcomes(results);
  }

  /** Lowercase names of every command ioredis knows of (the path form `/<command>/...` accepts these). */
  commandNames(): Set<string> {
    return new Set(this.redis.getBuiltinCommands().map((name) => name.toLowerCase()));
  }

  /** Disconnects from Redis, the shared connection and any of its own. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const redis of this.ownConnections) redis.disconnect();
    this.ownConnections.clear();
    if (this.redis.status === "ready") {
      await this.redis.quit().catch(noop);
    }
    this.redis.disconnect();
  }

  private async send(redis: Redis, command: RedisCommand): Promise<unknown> {
    const cmd = toCommand(command);
    redis.sendCommand(cmd);
    try {
      return (await cmd.promise) as unknown;
    } catch (error) {
      throw this.translate(error, false);
    }
  }

  private async pipelineOn(redis: Redis, commands: ReadonlyArray<RedisCommand | Error>): Promise<Outcome[]> {
    if (commands.length === 1 && !(commands[0] instanceof Error)) {
      try {
        return [{ reply: await this.send(redis, commands[0] as RedisCommand) }];
      } catch (error) {
        if (isReplyError(error)) return [{ error: error.message }];
        throw error;
      }
    }
    const pipeline = redis.pipeline() as unknown as Pipeline;
    const sent: number[] = [];
    for (let i = 0; i < commands.length; i++) {
      const command = commands[i] as RedisCommand | Error;
      if (command instanceof Error) continue;
      pipeline.sendCommand(toCommand(command));
      sent.push(i);
    }
    const outcomes: Outcome[] = commands.map((command) => (command instanceof Error ? { error: command.message } : { reply: null }));
    if (sent.length === 0) return outcomes;
    let results: Array<[Error | null, unknown]>;
    try {
      results = ((await pipeline.exec()) ?? []) as Array<[Error | null, unknown]>;
    } catch (error) {
      throw this.translate(error, false);
    }
    const sentOutcomes = this.outcomes(results);
    for (let j = 0; j < sent.length; j++) outcomes[sent[j] as number] = sentOutcomes[j] as Outcome;
    return outcomes;
  }

  private outcomes(results: Array<[Error | null, unknown]>): Outcome[] {
    const outcomes = new Array<Outcome>(results.length);
    for (let i = 0; i < results.length; i++) {
      const [error, reply] = results[i] as [Error | null, unknown];
      if (error === null) outcomes[i] = { reply };
      else if (isReplyError(error)) outcomes[i] = { error: error.message };
      else throw this.translate(error, false);
    }
    return outcomes;
  }

  private translate(error: unknown, transaction: boolean): Error {
    if (isReplyError(error)) {
      const previous = (error as { previousErrors?: unknown }).previousErrors;
      if (transaction && Array.isArray(previous) && previous.length > 0) {
        const causes = previous.map(describeError).join("; ");
        error.message = `${error.message.replace(/\.$/, "")}: ${causes}`;
      }
      return error;
    }
    if (error instanceof RedisUnreachableError) return error;
    const cause = this.lastError ?? (error instanceof Error ? error : new Error(describeError(error)));
    return this.unreachable(cause);
  }

  private unreachable(cause: Error): RedisUnreachableError {
    return new RedisUnreachableError(
      `Redis is unreachable at ${this.displayUrl}: ${describeError(cause)}. Start redis-server or set REDIS_URL.`,
      { cause },
    );
  }

  private async onOwnConnection<T>(work: (redis: Redis) => Promise<T>): Promise<T> {
    if (this.closed) throw new RedisUnreachableError("The Redis REST server is closing.");
    const redis = new Redis(this.url, { ...this.redisOptions, retryStrategy: () => null, connectionName: "next-cacheback-dev-blocking" });
    let failure: Error | undefined;
    redis.on("error", (error: Error) => {
      failure = error;
    });
    this.ownConnections.add(redis);
    try {
      try {
        await redis.connect();
      } catch (error) {
        throw this.unreachable(failure ?? (error as Error));
      }
      return await work(redis);
    } finally {
      this.ownConnections.delete(redis);
      redis.disconnect();
    }
  }
}
