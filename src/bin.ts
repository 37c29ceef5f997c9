#!/usr/bin/env node
/**
 * The `next-cacheback` command. Its one command, `dev`, lives in the package `next-cacheback-dev`, so the dev
 * servers and their dependencies (ioredis among them) never reach an app's production install:
 *
 * - when `next-cacheback-dev` is installed in the project (a devDependency), that copy is used;
 * - otherwise `npm exec` fetches a compatible version into npm's cache, the way `npx` would (nothing is added
 *   to the project). `NEXT_CACHEBACK_DEV_PACKAGE` names another package spec (a version, a tarball, a directory).
 *
 * Either way its CLI then runs in this very process, so Ctrl-C, SIGTERM and the exit code behave exactly as
 * with `next-cacheback-dev` itself: no npm process or shell sits between the signal and the servers.
 *
 * Node-only on purpose: this file is a command, never part of the library's runtime code path.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, delimiter, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describeError } from "./errors.js";

const DEV_PACKAGE = "next-cacheback-dev";

/** The versions of `next-cacheback-dev` this version of next-cacheback works with (what `npm exec` fetches). */
const DEV_PACKAGE_RANGE = "^0.1.0";

/** Environment variable: the package spec `npm exec` fetches instead of `next-cacheback-dev@<range>`. */
const PACKAGE_OVERRIDE = "NEXT_CACHEBACK_DEV_PACKAGE";

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
names another package spec to fetch (a version, a tarball or a directory).

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

/** How to start npm: the npm-cli.js that runs us when there is one (npx and npm run name it), else `npm` from the PATH. */
function npmCommand(): { command: string; prefix: string[]; shell: boolean } {
  const execPath = process.env.npm_execpath;
  if (execPath !== undefined && /npm-cli\.[cm]?js$/.test(execPath) && existsSync(execPath)) {
    return { command: process.execPath, prefix: [execPath], shell: false };
  }
  const windows = process.platform === "win32";
  return { command: windows ? "npm.cmd" : "npm", prefix: [], shell: windows };
}

/** The `next-cacheback-dev/cli` module of the package whose bin directory comes first in `path`. */
function devCliOnPath(path: string): string | undefined {
  for (const entry of path.split(delimiter)) {
    if (basename(entry) !== ".bin") continue;
    const packageJson = join(entry, "..", DEV_PACKAGE, "package.json");
    if (existsSync(packageJson)) return createRequire(packageJson).resolve(`${DEV_PACKAGE}/cli`);
  }
  return undefined;
}

/**
 * Has `npm exec` fetch `spec` into npm's cache (as `npx` does; nothing is added to the project) and returns
 * the path of its `cli` module. npm installs the package with this next-cacheback linked in for its peer
 * dependency (so the registry is never asked for next-cacheback) and puts its bin directory first on the
 * PATH of the command it runs, here `node -p process.env.PATH`; the package sits next to that directory.
 */
function fetchDevCli(spec: string): Promise<string> {
  const npm = npmCommand();
  const args = [...npm.prefix, "exec", "--yes", `--package=${spec}`, `--package=${OWN_ROOT}`, "--", "node", "-p", "process.env.PATH"];
  const env = { ...process.env };
  // Set when this runs under npx: it would name the packages of the outer `npm exec` to the inner one.
  delete env.npm_config_package;
  return new Promise((resolve, reject) => {
    const child = spawn(npm.command, args, { stdio: ["ignore", "pipe", "inherit"], env, shell: npm.shell });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.once("error", (error) => reject(new Error(`could not run npm (${error.message})`)));
    child.once("close", (code, signal) => {
      if (code !== 0) {
        reject(new Error(`npm exec could not fetch ${spec} (${signal ?? `exit code ${code}`})`));
        return;
      }
      const cli = devCliOnPath(out.trim().split("\n").pop() ?? "");
      if (cli === undefined) reject(new Error(`npm exec installed ${spec}, but it holds no ${DEV_PACKAGE} package`));
      else resolve(cli);
    });
  });
}

async function runDev(argv: readonly string[]): Promise<number | undefined> {
  const override = process.env[PACKAGE_OVERRIDE]?.trim();
  let cli = override ? undefined : installedDevCli();
  if (cli === undefined) {
    const spec = override || `${DEV_PACKAGE}@${DEV_PACKAGE_RANGE}`;
    if (!argv.includes("--quiet")) {
      console.error(
        override
          ? `next-cacheback: fetching ${spec} (${PACKAGE_OVERRIDE}) with npm exec`
          : `next-cacheback: ${DEV_PACKAGE} is not installed in this project: fetching ${spec} with npm exec (npm install --save-dev ${DEV_PACKAGE} pins it)`,
      );
    }
    try {
      cli = await fetchDevCli(spec);
    } catch (error) {
      console.error(`next-cacheback: ${(error as Error).message}. Install it in the project instead: npm install --save-dev ${DEV_PACKAGE}`);
      return 1;
    }
  }
  // The dev servers run in this process, whichever copy provides them: signals and the exit code are theirs.
  const { runCli } = (await import(pathToFileURL(cli).href)) as { runCli(argv: readonly string[]): Promise<number | undefined> };
  return runCli(argv);
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
    console.error(`next-cacheback: ${describeError(error)}`);
    process.exitCode = 1;
  },
);
