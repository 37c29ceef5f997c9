import { parseArgs } from "node:util";
import { QSTASH_DEV_PORT } from "next-cacheback/delivery";
import { DevServerError } from "./errors.js";
import { DEV_INSPECTOR_PORT } from "./inspector.js";
import { DEV_REDIS_REST_PORT } from "./redis-rest.js";

/** Where QStash delivers refreshes unless told otherwise: a Next.js app's refresh route on its default port. */
export const DEFAULT_REFRESH_URL = "http://127.0.0.1:3000/api/cacheback";

/** What the command line asked for, flags resolved against the environment. */
export interface CliOptions {
  readonly redisPort: number;
  readonly redisUrl: string;
  readonly redisToken: string | undefined;
  readonly qstashPort: number;
  readonly qstashToken: string | undefined;
  readonly currentSigningKey: string | undefined;
  readonly nextSigningKey: string | undefined;
  readonly retryDelayScale: number | undefined;
  readonly host: string;
  readonly quiet: boolean;
  /** The inspector's port, or `undefined` with `--no-inspector`. */
  readonly inspectorPort: number | undefined;
  /** The app's key prefix, which the inspector opens on. */
  readonly prefix: string;
  /** The app's refresh route, printed as CACHEBACK_REFRESH_URL and used by the inspector. */
  readonly refreshUrl: string;
}

/** What to do: start the servers, or print help or the version. */
export type CliAction = { readonly kind: "dev"; readonly options: CliOptions } | { readonly kind: "help" } | { readonly kind: "version" };

/** A command line that cannot be run; the CLI prints the message and the usage, and exits 2. */
export class CliUsageError extends DevServerError {
  override name = "CliUsageError";
}

/** The `--help` text. */
export const USAGE = `Usage: next-cacheback dev [flags]

Starts two local servers so @upstash/redis and @upstash/qstash work offline, unchanged:
an Upstash Redis REST server bridged onto a real Redis, and a QStash server that delivers
signed messages with QStash's retries. Prints the environment variables to paste. Also
serves the inspector, a page on 127.0.0.1 showing the cache's entries, locks, messages
and dead letters, live.

Flags:
  --redis-port <port>          Port of the Redis REST server; 0 picks a free one. Default: ${DEV_REDIS_REST_PORT}
  --redis-url <url>            The Redis to bridge onto. Default: $REDIS_URL, else redis://127.0.0.1:6379
  --redis-token <token>        Token Redis REST clients must send. Default: next-cacheback-dev-redis-token
  --qstash-port <port>         Port of the QStash server; 0 picks a free one. Default: $QSTASH_DEV_PORT, else ${QSTASH_DEV_PORT}
  --qstash-token <token>       Token QStash clients must send. Default: the official QStash dev token
  --current-signing-key <key>  Key every delivery is signed with. Default: the official QStash dev key
  --next-signing-key <key>     The next signing key. Default: the official QStash dev key
  --retry-delay-scale <n>      Multiply QStash delays and retry waits by n (0.01 = 100 times faster). Default: 1
  --host <host>                Interface both servers listen on. Default: 127.0.0.1
  --inspector-port <port>      Port of the inspector (always on 127.0.0.1); 0 picks a free one. Default: ${DEV_INSPECTOR_PORT}
  --no-inspector               Do not start the inspector
  --prefix <prefix>            The app's key prefix, where the inspector opens. Default: $CACHEBACK_PREFIX, else cacheback:
  --refresh-url <url>          The app's refresh route: printed as CACHEBACK_REFRESH_URL, and where the
                               inspector's Invalidate has QStash deliver. Default: $CACHEBACK_REFRESH_URL, else
                               ${DEFAULT_REFRESH_URL}
  --quiet                      Print only the environment and where the servers listen, no activity log
  -h, --help                   Show this help
  --version                    Print the version of next-cacheback-dev

The same command runs as \`next-cacheback-dev dev [flags]\` (the binary of next-cacheback-dev).

Example:
  npx next-cacheback dev
  # paste the printed UPSTASH_* and QSTASH_* lines into .env.local, then run: next dev
  npx next-cacheback dev --redis-port 0 --qstash-port 0 --retry-delay-scale 0.01
`;

function port(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) {
    throw new CliUsageError(`${flag} must be a port number from 0 to 65535, got '${value}'.`);
  }
  return parsed;
}

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && value === "") throw new CliUsageError(`${flag} must not be empty.`);
  return value;
}

/**
 * Parses `argv` (without the node and script paths). Unknown flags, a missing or unknown command, and bad
 * values throw {@link CliUsageError}.
 */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliAction {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        "redis-port": { type: "string" },
        "redis-url": { type: "string" },
        "redis-token": { type: "string" },
        "qstash-port": { type: "string" },
        "qstash-token": { type: "string" },
        "current-signing-key": { type: "string" },
        "next-signing-key": { type: "string" },
        "retry-delay-scale": { type: "string" },
        host: { type: "string" },
        "inspector-port": { type: "string" },
        "no-inspector": { type: "boolean" },
        prefix: { type: "string" },
        "refresh-url": { type: "string" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
      },
    });
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const flag = /'([^']+)'/.exec(message)?.[1];
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag !== undefined) {
      throw new CliUsageError(`Unknown flag '${flag}'. The flags are listed below.`);
    }
    throw new CliUsageError(message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  if (positionals.length === 0) throw new CliUsageError("Missing the command: run `next-cacheback dev`.");
  if (positionals[0] !== "dev") throw new CliUsageError(`Unknown command '${positionals[0]}': the only command is 'dev'.`);
  if (positionals.length > 1) throw new CliUsageError(`Unexpected argument '${positionals[1]}'.`);

  let retryDelayScale: number | undefined;
  if (values["retry-delay-scale"] !== undefined) {
    retryDelayScale = Number(values["retry-delay-scale"]);
    if (values["retry-delay-scale"].trim() === "" || !Number.isFinite(retryDelayScale) || retryDelayScale < 0) {
      throw new CliUsageError(`--retry-delay-scale must be a number >= 0, got '${values["retry-delay-scale"]}'.`);
    }
  }
  const refreshUrl = nonEmpty("--refresh-url", values["refresh-url"]) ?? (env.CACHEBACK_REFRESH_URL || DEFAULT_REFRESH_URL);
  if (!/^https?:\/\/[^/]/i.test(refreshUrl) || !URL.canParse(refreshUrl)) {
    throw new CliUsageError(`--refresh-url must be an absolute http(s) URL, got '${refreshUrl}'.`);
  }
  const qstashEnvPort = env.QSTASH_DEV_PORT === undefined || env.QSTASH_DEV_PORT === "" ? undefined : env.QSTASH_DEV_PORT;
  return {
    kind: "dev",
    options: {
      redisPort: port("--redis-port", values["redis-port"], DEV_REDIS_REST_PORT),
      redisUrl: nonEmpty("--redis-url", values["redis-url"]) ?? env.REDIS_URL ?? "redis://127.0.0.1:6379",
      redisToken: nonEmpty("--redis-token", values["redis-token"]),
      qstashPort: port(
        values["qstash-port"] === undefined && qstashEnvPort !== undefined ? "QSTASH_DEV_PORT" : "--qstash-port",
        values["qstash-port"] ?? qstashEnvPort,
        QSTASH_DEV_PORT,
      ),
      qstashToken: nonEmpty("--qstash-token", values["qstash-token"]),
      currentSigningKey: nonEmpty("--current-signing-key", values["current-signing-key"]),
      nextSigningKey: nonEmpty("--next-signing-key", values["next-signing-key"]),
      retryDelayScale,
      host: nonEmpty("--host", values.host) ?? "127.0.0.1",
      quiet: values.quiet ?? false,
      inspectorPort: values["no-inspector"] ? undefined : port("--inspector-port", values["inspector-port"], DEV_INSPECTOR_PORT),
      prefix: nonEmpty("--prefix", values.prefix) ?? (env.CACHEBACK_PREFIX || "cacheback:"),
      refreshUrl,
    },
  };
}
