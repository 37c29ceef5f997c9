import { readFileSync } from "node:fs";
import { CliUsageError, parseCli, USAGE, type CliOptions } from "./cli-options.js";
import { devServersEnv } from "./dev-servers.js";
import { redactRedisUrl } from "./redis-rest/bridge.js";
import { describeError, DevServerError, DevServerOptionsError, PortInUseError } from "./errors.js";
import { startInspector, type Inspector } from "./inspector.js";
import { startQStashServer, type QStashServer } from "./qstash-server.js";
import { startRedisRestServer, type RedisRestServer } from "./redis-rest.js";

const SHUTDOWN_GRACE_MS = 5_000;

/** A failure to start, with the message to print and the exit code. */
class CliStartError extends DevServerError {
  override name = "CliStartError";
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string };
  return pkg.version ?? "unknown";
}

function startError(error: unknown, server: string, portFlag: string): CliStartError {
  if (error instanceof PortInUseError) {
    return new CliStartError(
      `Cannot start the ${server}: port ${error.port} on ${error.host} is already in use. Stop whatever listens there, or pick another port with ${portFlag} <port> (0 picks a free one).`,
      1,
    );
  }
  return new CliStartError(`Cannot start the ${server}: ${describeError(error)}`, error instanceof DevServerOptionsError ? 2 : 1);
}

async function warnIfRedisDown(redis: RedisRestServer): Promise<void> {
  try {
    const res = await fetch(`${redis.url}/healthz`);
    const health = (await res.json()) as { redis?: string };
    if (health.redis !== "ready") {
      const probe = await fetch(redis.url, {
        method: "POST",
        headers: { authorization: `Bearer ${redis.token}`, "content-type": "application/json" },
        body: '["ping"]',
      });
      const answer = (await probe.json()) as { error?: string };
      if (answer.error !== undefined) console.error(`warning: ${answer.error}`);
    }
  } catch {
    // The servers answer their own requests; a failed probe only means no warning.
  }
}

async function startServers(options: CliOptions, log: ((line: string) => void) | undefined): Promise<[RedisRestServer, QStashServer]> {
  let redis: RedisRestServer;
  try {
    redis = await startRedisRestServer({
      port: options.redisPort,
      host: options.host,
      redisUrl: options.redisUrl,
      ...(options.redisToken !== undefined ? { token: options.redisToken } : {}),
      ...(log ? { log } : {}),
    });
  } catch (error) {
    throw startError(error, "Redis REST server", "--redis-port");
  }
  try {
    const qstash = await startQStashServer({
      port: options.qstashPort,
      host: options.host,
      ...(options.qstashToken !== undefined ? { token: options.qstashToken } : {}),
      ...(options.currentSigningKey !== undefined ? { currentSigningKey: options.currentSigningKey } : {}),
      ...(options.nextSigningKey !== undefined ? { nextSigningKey: options.nextSigningKey } : {}),
      ...(options.retryDelayScale !== undefined ? { retryDelayScale: options.retryDelayScale } : {}),
      ...(log ? { log } : {}),
    });
    return [redis, qstash];
  } catch (error) {
    await redis.close();
    throw startError(error, "QStash server", "--qstash-port");
  }
}

/**
 * Starts the inspector over the running servers. It is an extra: when it cannot start (its port is taken),
 * the servers the app needs keep running and a warning says what to do.
 */
async function startInspectorOrWarn(options: CliOptions, redis: RedisRestServer, qstash: QStashServer, log: ((line: string) => void) | undefined): Promise<Inspector | undefined> {
  if (options.inspectorPort === undefined) return undefined;
  try {
    return await startInspector({ port: options.inspectorPort, redis, qstash, prefix: options.prefix, refreshUrl: options.refreshUrl, ...(log ? { log } : {}) });
  } catch (error) {
    const why = error instanceof PortInUseError ? `port ${error.port} on 127.0.0.1 is already in use` : describeError(error);
    console.error(`warning: the inspector did not start: ${why}. Pick another port with --inspector-port <port> (0 picks a free one), or pass --no-inspector.`);
    return undefined;
  }
}

async function dev(options: CliOptions): Promise<void> {
  const log = options.quiet ? undefined : (line: string): void => console.log(line);
  const running: { servers?: Array<{ close(): Promise<void> }> } = {};
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    if (!options.quiet) console.log(`${signal}: stopping the dev servers`);
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS).unref();
    if (running.servers === undefined) return;
    Promise.all(running.servers.map((server) => server.close())).then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  const servers = await startServers(options, log);
  running.servers = servers;
  const [redis, qstash] = servers;
  const inspector = stopping ? undefined : await startInspectorOrWarn(options, redis, qstash, log);
  if (inspector) running.servers = [...servers, inspector];
  if (stopping) {
    await Promise.all(running.servers.map((server) => server.close()));
    process.exit(0);
  }
  const env = devServersEnv(redis, qstash);
  const lines = [
    "",
    `next-cacheback dev: Redis REST on ${redis.url} (bridged to ${redactRedisUrl(options.redisUrl)}), QStash on ${qstash.url}`,
    ...(inspector ? [`Inspector: ${inspector.url} (entries under ${options.prefix}, the message log, the dead-letter queue)`] : []),
    "Paste into .env.local:",
    ...Object.entries(env).map(([key, value]) => `${key}=${value}`),
    "# where QStash delivers next-cacheback refreshes: your app's refresh route (adjust the port)",
    `CACHEBACK_REFRESH_URL=${options.refreshUrl}`,
    "",
  ];
  console.log(lines.join("\n"));
  await warnIfRedisDown(redis);
}

async function main(argv: readonly string[]): Promise<number | undefined> {
  let action;
  try {
    action = parseCli(argv, process.env);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    console.error(`next-cacheback: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (action.kind === "help") {
    console.log(USAGE);
    return 0;
  }
  if (action.kind === "version") {
    console.log(version());
    return 0;
  }
  try {
    await dev(action.options);
    return undefined;
  } catch (error) {
    if (error instanceof CliStartError) {
      console.error(`next-cacheback: ${error.message}`);
      return error.exitCode;
    }
    console.error(`next-cacheback: could not start the dev servers: ${describeError(error)}`);
    return 1;
  }
}

/**
 * Runs the `next-cacheback-dev` command line (`dev [flags]`, `--help`, `--version`) in this process, as the
 * `next-cacheback-dev` binary and the `next-cacheback` launcher do. Never rejects: problems are printed.
 *
 * @param argv The arguments, without the node and script paths, such as `["dev", "--redis-port", "0"]`.
 * @returns The exit code when the command is done (help, version, a usage error, a failed start), or
 * `undefined` once the servers are running: they then run until SIGINT or SIGTERM, which exit 0.
 */
export async function runCli(argv: readonly string[]): Promise<number | undefined> {
  try {
    return await main(argv);
  } catch (error) {
    console.error(`next-cacheback: ${describeError(error)}`);
    return 1;
  }
}
