#!/usr/bin/env node
/**
 * The `next-cacheback` command. Its one command, `dev`, lives in the package `next-cacheback-dev`, so the dev
 * servers and their dependencies (ioredis among them) never reach an app's production install:
 *
 * - when `next-cacheback-dev` is installed in the project (a devDependency), its CLI runs in this process;
 * - otherwise `npm exec` fetches a compatible version into npm's cache and runs it, the way `npx` would.
 *   `NEXT_CACHEBACK_DEV_PACKAGE` replaces the package given to `npm exec` (a version, a tarball, a directory).
 *
 * Node-only on purpose: this file is a command, never part of the library's runtime code path.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const DEV_PACKAGE = "next-cacheback-dev";

/** The versions of `next-cacheback-dev` this version of next-cacheback works with (what `npm exec` fetches). */
const DEV_PACKAGE_RANGE = "^0.1.0";

/** Environment variable: the package spec `npm exec` runs instead of `next-cacheback-dev@<range>`. */
const PACKAGE_OVERRIDE = "NEXT_CACHEBACK_DEV_PACKAGE";

const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** The directory of this installed next-cacheback (the one holding its package.json). */
const OWN_ROOT = fileURLToPath(new URL("..", import.meta.url));

const USAGE = `Usage: next-cacheback <command> [flags]

Commands:
  dev          Start an Upstash Redis REST server (bridged onto your local Redis) and a QStash server,
               so @upstash/redis and @upstash/qstash work offline. Prints the env lines to paste.
               Run \`next-cacheback dev --help\` for its flags.

Flags:
  -h, --help   Show this help
  --version    Print the version of next-cacheback

The dev servers come in the package ${DEV_PACKAGE}. When your project has it installed
(npm install --save-dev ${DEV_PACKAGE}), that copy runs. Otherwise npm fetches a compatible version
(${DEV_PACKAGE}@${DEV_PACKAGE_RANGE}) into its cache on first use, as npx does; ${PACKAGE_OVERRIDE}
names another package spec to run (a version, a tarball or a directory).

Example:
  npx next-cacheback dev
`;

function ownVersion(): string {
  const pkg = JSON.parse(readFileSync(join(OWN_ROOT, "package.json"), "utf8")) as { version?: string };
  return pkg.version ?? "unknown";
}

function usageError(message: string): number {
  console.error(`next-cacheback: ${message}\n\n${USAGE}`);
  return 2;
}

/** The `next-cacheback-dev/cli` module installed for the project in the working directory, or next to this package. */
function installedDevCli(): string | undefined {
  for (const from of [join(process.cwd(), "package.json"), fileURLToPath(import.meta.url)]) {
    try {
      return createRequire(from).resolve(`${DEV_PACKAGE}/cli`);
    } catch {
      // Not installed where this looked; try the next place.
    }
  }
  return undefined;
}

/** How to start npm: the npm-cli.js that runs us when there is one (npx, npm run), else `npm` from the PATH. */
function npmCommand(): { command: string; prefix: string[]; shell: boolean } {
  const execPath = process.env.npm_execpath;
  if (execPath !== undefined && /npm-cli\.[cm]?js$/.test(execPath) && existsSync(execPath)) {
    return { command: process.execPath, prefix: [execPath], shell: false };
  }
  if (execPath !== undefined && /npx-cli\.[cm]?js$/.test(execPath)) {
    const npmCli = join(dirname(execPath), "npm-cli.js");
    if (existsSync(npmCli)) return { command: process.execPath, prefix: [npmCli], shell: false };
  }
  const windows = process.platform === "win32";
  return { command: windows ? "npm.cmd" : "npm", prefix: [], shell: windows };
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal === null ? undefined : (constants.signals as Record<string, number | undefined>)[signal];
  return number === undefined ? 1 : 128 + number;
}

/**
 * Runs `npm exec --yes --package=<spec> --package=<this next-cacheback> -- next-cacheback-dev <argv>` with the
 * terminal inherited, forwarding SIGINT, SIGTERM and SIGHUP, and resolves with its exit code. This package's
 * own directory goes along so npm links the installed next-cacheback for the peer dependency instead of
 * looking for it in the registry.
 */
function runWithNpmExec(spec: string, argv: readonly string[]): Promise<number> {
  const npm = npmCommand();
  const args = [...npm.prefix, "exec", "--yes", `--package=${spec}`, `--package=${OWN_ROOT}`, "--", DEV_PACKAGE, ...argv];
  const env = { ...process.env };
  // Set when this runs under npx: it would name the packages of the outer `npm exec` to the inner one.
  delete env.npm_config_package;
  return new Promise((resolve) => {
    const child = spawn(npm.command, args, { stdio: "inherit", env, shell: npm.shell });
    const forward = (signal: NodeJS.Signals): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const done = (code: number): void => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      resolve(code);
    };
    child.once("error", (error) => {
      console.error(`next-cacheback: could not run npm to start ${DEV_PACKAGE} (${error.message}). Install it instead: npm install --save-dev ${DEV_PACKAGE}`);
      done(1);
    });
    child.once("exit", (code, signal) => done(exitCodeOf(code, signal)));
  });
}

async function runDev(argv: readonly string[]): Promise<number | undefined> {
  const override = process.env[PACKAGE_OVERRIDE]?.trim();
  if (override === undefined || override === "") {
    const cli = installedDevCli();
    if (cli !== undefined) {
      const { runCli } = (await import(pathToFileURL(cli).href)) as { runCli(argv: readonly string[]): Promise<number | undefined> };
      return runCli(argv);
    }
  }
  const spec = override || `${DEV_PACKAGE}@${DEV_PACKAGE_RANGE}`;
  if (!argv.includes("--quiet")) {
    console.error(
      `next-cacheback: running ${spec} with npm exec${override ? ` (from ${PACKAGE_OVERRIDE})` : `; npm install --save-dev ${DEV_PACKAGE} to pin it`}`,
    );
  }
  return runWithNpmExec(spec, argv);
}

async function main(argv: readonly string[]): Promise<number | undefined> {
  const first = argv[0];
  if (first === undefined) return usageError("Missing the command: run `next-cacheback dev`.");
  if (first === "-h" || first === "--help" || first === "help") {
    console.log(USAGE);
    return 0;
  }
  if (first === "--version") {
    console.log(ownVersion());
    return 0;
  }
  // `dev` first, or after flags meant for it (`next-cacheback --quiet dev`): next-cacheback-dev parses the rest.
  if (first === "dev" || (first.startsWith("-") && argv.includes("dev"))) return runDev(argv);
  if (first.startsWith("-")) return usageError(`Unknown flag '${first}'. Run \`next-cacheback dev --help\` for the flags of dev.`);
  return usageError(`Unknown command '${first}': the only command is 'dev'.`);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`next-cacheback: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
