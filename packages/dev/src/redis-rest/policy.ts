import { DevServerError } from "../errors.js";
import type { RedisArg, RedisCommand } from "./commands.js";

/**
 * Where a command runs: on the connection every request shares, or on a connection of its own (a
 * blocking command with a timeout, which would otherwise stall every other request while it waits).
 */
export type Placement = "shared" | "dedicated";

/** A command this server does not run over REST, with the reason in `message` (Redis style, `ERR ...`). */
export class CommandRefusedError extends DevServerError {
  override name = "CommandRefusedError";
}

const TAKES_OVER_CONNECTION = new Set([
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
  "monitor",
  "sync",
  "psync",
  "replconf",
]);

const CHANGES_CONNECTION_STATE = new Set(["select", "quit", "reset", "auth", "hello"]);

const TRANSACTION_CONTROL = new Set(["multi", "exec", "discard", "watch", "unwatch"]);

const HARMLESS_CLIENT_SUBCOMMANDS = new Set(["id", "info", "list", "getname"]);

const LAST_ARG_TIMEOUT = new Set(["blpop", "brpop", "brpoplpush", "blmove", "bzpopmin", "bzpopmax"]);
const FIRST_ARG_TIMEOUT = new Set(["bzmpop", "blmpop"]);
const BLOCK_OPTION = new Set(["xread", "xreadgroup"]);

function text(arg: RedisArg | undefined): string {
  return arg === undefined ? "" : typeof arg === "string" ? arg : arg.toString("utf8");
}

function blockingTimeout(lower: string, args: readonly RedisArg[]): string | undefined {
  if (LAST_ARG_TIMEOUT.has(lower)) return text(args[args.length - 1]);
  if (FIRST_ARG_TIMEOUT.has(lower)) return text(args[0]);
  if (lower === "wait") return text(args[1]);
  if (lower === "waitaof") return text(args[2]);
  if (BLOCK_OPTION.has(lower)) {
    for (let i = 0; i < args.length - 1; i++) {
      const option = text(args[i]).toLowerCase();
      if (option === "streams") return undefined;
      if (option === "block") return text(args[i + 1]);
    }
  }
  return undefined;
}

/**
 * Decides where `command` runs, or throws {@link CommandRefusedError} for a command that would break the
 * shared connection or make no sense over REST: (un)subscribe, MONITOR, SELECT, QUIT, AUTH, HELLO, CLIENT
 * subcommands that change the connection, MULTI/EXEC/WATCH outside `/multi-exec`, and a blocking command
 * with timeout 0. Inside a transaction blocking commands never block, so they run anywhere.
 */
export function placeCommand(command: RedisCommand, inTransaction: boolean): Placement {
  const lower = command.name.toLowerCase();
  if (TAKES_OVER_CONNECTION.has(lower)) {
    throw new CommandRefusedError(
      `ERR '${lower}' is not supported over REST: it would take over the Redis connection every request shares`,
    );
  }
  if (CHANGES_CONNECTION_STATE.has(lower)) {
    const hint = lower === "select" ? "; to use another database, put it in REDIS_URL (redis://host:port/<db>)" : "";
    throw new CommandRefusedError(
      `ERR '${lower}' is not supported over REST: it would change the state of the Redis connection every request shares${hint}`,
    );
  }
  if (lower === "client" && command.args.length > 0 && !HARMLESS_CLIENT_SUBCOMMANDS.has(text(command.args[0]).toLowerCase())) {
    throw new CommandRefusedError(
      `ERR 'client ${text(command.args[0]).toLowerCase()}' is not supported over REST: only CLIENT ID, INFO, LIST and GETNAME are`,
    );
  }
  if (TRANSACTION_CONTROL.has(lower)) {
    throw new CommandRefusedError(
      inTransaction
        ? `ERR '${lower}' cannot appear inside a transaction: /multi-exec wraps the commands in MULTI/EXEC itself`
        : `ERR '${lower}' is not supported as a single command: send the whole transaction to POST /multi-exec`,
    );
  }
  if (inTransaction) return "shared";
  const timeout = blockingTimeout(lower, command.args);
  if (timeout === undefined) return "shared";
  const seconds = Number(timeout);
  if (timeout.trim() !== "" && seconds === 0) {
    throw new CommandRefusedError(
      `ERR '${lower}' with timeout 0 would block forever, which REST does not allow: pass a timeout greater than 0`,
    );
  }
  return Number.isFinite(seconds) && seconds > 0 ? "dedicated" : "shared";
}
