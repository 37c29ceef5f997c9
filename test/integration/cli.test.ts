import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, randomPrefix } from "../helpers/wait.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
/** The `next-cacheback-dev` binary. */
const cli = fileURLToPath(new URL("../../packages/dev/dist/bin.js", import.meta.url));
/** The `next-cacheback` binary: the launcher, which finds next-cacheback-dev (the workspace package) from here. */
const launcher = fileURLToPath(new URL("../../dist/bin.js", import.meta.url));
const ENV_KEYS = [
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "QSTASH_URL",
  "QSTASH_TOKEN",
  "QSTASH_CURRENT_SIGNING_KEY",
  "QSTASH_NEXT_SIGNING_KEY",
  "CACHEBACK_REFRESH_URL",
];
const FLAGS = [
  "--redis-port",
  "--redis-url",
  "--redis-token",
  "--qstash-port",
  "--qstash-token",
  "--current-signing-key",
  "--next-signing-key",
  "--retry-delay-scale",
  "--host",
  "--inspector-port",
  "--no-inspector",
  "--prefix",
  "--refresh-url",
  "--quiet",
  "--help",
  "-h",
  "--version",
];

/** The environment of this process without any Upstash or next-cacheback variables, so children see only what a test gives. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(UPSTASH_|QSTASH_|KV_REST_|CACHEBACK_)/.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

interface RunningCli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function startCli(args: string[], bin = cli): RunningCli {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
  // "close", not "exit": output may still be arriving when the process has exited.
  const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

function parseEnvLines(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

/** Runs a plain Node ESM script with the given environment and returns its last stdout line as JSON. */
function runScript(source: string, env: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", source], {
      cwd: root,
      env: cleanEnv(env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`script exited ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split("\n").pop()!) as unknown);
    });
  });
}

const APP_SCRIPT = `
import { createServer } from "node:http";
import { Redis } from "@upstash/redis";
import { Client, Receiver } from "@upstash/qstash";

const key = process.env.TEST_KEY;
const redis = Redis.fromEnv();
await redis.set(key, { hello: "wörld 😀" }, { ex: 60 });
const got = await redis.get(key);
await redis.del(key);

let deliver;
const delivered = new Promise((resolve) => (deliver = resolve));
const destination = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    res.end("ok");
    deliver({ signature: req.headers["upstash-signature"], body });
  });
});
await new Promise((resolve) => destination.listen(0, "127.0.0.1", resolve));
const url = "http://127.0.0.1:" + destination.address().port + "/api/cacheback";

const published = await new Client().publishJSON({ url, body: { job: "posts" } });
const delivery = await delivered;
const verified = await new Receiver().verify({ signature: delivery.signature, body: delivery.body, url });
destination.close();
console.log(JSON.stringify({ got, messageId: published.messageId, body: delivery.body, verified }));
`;

beforeAll(() => {
  if (!existsSync(cli) || !existsSync(launcher)) execFileSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" });
}, 120_000);

describe("next-cacheback dev", () => {
  let running: RunningCli | undefined;

  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill("SIGKILL");
      await running.exit;
    }
  });

  it("prints the six Upstash env lines, the refresh URL and the inspector's URL; an app using only the env talks to both servers; SIGINT exits 0", async () => {
    running = startCli(["dev", "--redis-port", "0", "--qstash-port", "0", "--inspector-port", "0"]);
    const cliProcess = running;
    const env = await eventually(
      "the env lines",
      async () => {
        const parsed = parseEnvLines(cliProcess.stdout());
        return ENV_KEYS.every((name) => name in parsed) ? parsed : undefined;
      },
      15_000,
    );
    expect(Object.keys(env)).toEqual(ENV_KEYS);
    expect(env.UPSTASH_REDIS_REST_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.CACHEBACK_REFRESH_URL).toBe("http://127.0.0.1:3000/api/cacheback");
    expect(env.QSTASH_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.UPSTASH_REDIS_REST_TOKEN).toBe("next-cacheback-dev-redis-token");
    expect(env.QSTASH_TOKEN).toBe("eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=");
    expect(env.QSTASH_CURRENT_SIGNING_KEY).toBe("sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r");
    expect(env.QSTASH_NEXT_SIGNING_KEY).toBe("sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs");
    expect(cliProcess.stdout()).toContain(`Redis REST on ${env.UPSTASH_REDIS_REST_URL}`);
    expect(cliProcess.stdout()).toContain(`QStash on ${env.QSTASH_URL}`);

    const inspector = /^Inspector: (http:\/\/127\.0\.0\.1:\d+\/) \(entries under cacheback:, /m.exec(cliProcess.stdout())?.[1];
    expect(inspector).toBeDefined();
    const page = await fetch(inspector!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`<code>${env.UPSTASH_REDIS_REST_URL}</code>`);

    const result = await runScript(APP_SCRIPT, { ...env, TEST_KEY: `${randomPrefix("cli")}app` });
    expect(result).toMatchObject({ got: { hello: "wörld 😀" }, body: '{"job":"posts"}', verified: true });
    expect((result as { messageId: string }).messageId).toMatch(/\S/);

    cliProcess.child.kill("SIGINT");
    expect(await cliProcess.exit).toBe(0);
    expect(cliProcess.stderr()).toBe("");
    await expect(fetch(`${env.UPSTASH_REDIS_REST_URL}/healthz`)).rejects.toThrow();
    await expect(fetch(`${env.QSTASH_URL}/v2/keys`)).rejects.toThrow();
    await expect(fetch(inspector!)).rejects.toThrow();
  });

  it("--refresh-url is printed as CACHEBACK_REFRESH_URL, --prefix is where the inspector opens, --no-inspector starts none", async () => {
    const flags = ["dev", "--redis-port", "0", "--qstash-port", "0", "--refresh-url", "http://127.0.0.1:4100/api/refresh"];
    for (const [extra, inspector] of [
      [["--inspector-port", "0", "--prefix", "shop:"], true],
      [["--no-inspector"], false],
    ] as const) {
      const run = startCli([...flags, ...extra]);
      try {
        await eventually("the env lines", async () => "CACHEBACK_REFRESH_URL" in parseEnvLines(run.stdout()), 15_000);
        expect(parseEnvLines(run.stdout()).CACHEBACK_REFRESH_URL).toBe("http://127.0.0.1:4100/api/refresh");
        const url = /^Inspector: (\S+) \(entries under shop:, /m.exec(run.stdout())?.[1];
        if (inspector) {
          const page = await (await fetch(url!)).text();
          expect(page).toContain('value="shop:"');
          expect(page).toContain("<code>http://127.0.0.1:4100/api/refresh</code>");
        } else {
          expect(run.stdout()).not.toContain("Inspector:");
        }
        run.child.kill("SIGINT");
        expect(await run.exit).toBe(0);
        expect(run.stderr()).toBe("");
      } finally {
        if (run.child.exitCode === null) run.child.kill("SIGKILL");
      }
    }
  });

  it("--help lists every flag with an example, and exits 0", () => {
    const help = spawnSync(process.execPath, [cli, "--help"], { cwd: root, env: cleanEnv(), encoding: "utf8" });
    expect(help.status).toBe(0);
    for (const flag of FLAGS) expect(help.stdout, flag).toContain(flag);
    expect(help.stdout).toMatch(/Example:\n\s+npx next-cacheback dev/);
    const short = spawnSync(process.execPath, [cli, "dev", "-h"], { cwd: root, env: cleanEnv(), encoding: "utf8" });
    expect(short.status).toBe(0);
    expect(short.stdout).toBe(help.stdout);
  });

  it("--version prints the package version", () => {
    const result = spawnSync(process.execPath, [cli, "--version"], { cwd: root, env: cleanEnv(), encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("an unknown flag, a missing command or a bad port: a clear error and the usage, exit 2", () => {
    const cases: Array<[string[], RegExp]> = [
      [["dev", "--nope"], /Unknown flag '--nope'/],
      [[], /Missing the command/],
      [["serve"], /Unknown command 'serve'/],
      [["dev", "--redis-port", "http"], /--redis-port must be a port number from 0 to 65535, got 'http'/],
      [["dev", "--retry-delay-scale=-1"], /--retry-delay-scale must be a number >= 0/],
      [["dev", "--refresh-url", "/api/cacheback"], /--refresh-url must be an absolute http\(s\) URL, got '\/api\/cacheback'/],
      [["dev", "--inspector-port", "70000"], /--inspector-port must be a port number from 0 to 65535, got .70000./],
    ];
    for (const [args, message] of cases) {
      const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, env: cleanEnv(), encoding: "utf8" });
      expect(result.status, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain("Usage: next-cacheback dev [flags]");
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  describe("a port already taken", () => {
    let blocker: Server;
    let taken: number;

    beforeAll(async () => {
      blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
      taken = (blocker.address() as { port: number }).port;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    });

    for (const [flag, other, server] of [
      ["--redis-port", "--qstash-port", "Redis REST server"],
      ["--qstash-port", "--redis-port", "QStash server"],
    ] as const) {
      it(`${flag}: names the flag to change, exits 1, no stack trace`, async () => {
        const run = startCli(["dev", flag, String(taken), other, "0"]);
        expect(await run.exit).toBe(1);
        expect(run.stderr()).toContain(
          `Cannot start the ${server}: port ${taken} on 127.0.0.1 is already in use. Stop whatever listens there, or pick another port with ${flag} <port>`,
        );
        expect(run.stderr()).not.toMatch(/\n\s+at /);
        expect(run.stdout()).not.toContain("UPSTASH_REDIS_REST_URL=");
      });
    }

    it("--inspector-port: a warning names the flag, and the servers the app needs keep running", async () => {
      const run = startCli(["dev", "--redis-port", "0", "--qstash-port", "0", "--inspector-port", String(taken)]);
      try {
        const env = await eventually("the env lines", async () => {
          const parsed = parseEnvLines(run.stdout());
          return ENV_KEYS.every((name) => name in parsed) ? parsed : undefined;
        }, 15_000);
        expect(run.stderr()).toContain(`warning: the inspector did not start: port ${taken} on 127.0.0.1 is already in use. Pick another port with --inspector-port <port>`);
        expect(run.stdout()).not.toContain("Inspector:");
        expect((await fetch(`${env.UPSTASH_REDIS_REST_URL}/healthz`)).status).toBe(200);
        run.child.kill("SIGINT");
        expect(await run.exit).toBe(0);
      } finally {
        if (run.child.exitCode === null) run.child.kill("SIGKILL");
      }
    });
  });
});

describe("the next-cacheback launcher", () => {
  const run = (args: string[]) => spawnSync(process.execPath, [launcher, ...args], { cwd: root, env: cleanEnv(), encoding: "utf8" });

  it("--help names the dev command and where it comes from, and exits 0", () => {
    const help = run(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: next-cacheback <command> \[flags\]/);
    expect(help.stdout).toMatch(/^ {2}dev /m);
    expect(help.stdout).toContain("next-cacheback dev --help");
    expect(help.stdout).toContain("npm install --save-dev next-cacheback-dev");
    expect(help.stdout).toContain("NEXT_CACHEBACK_DEV_PACKAGE");
    expect(run(["-h"]).stdout).toBe(help.stdout);
  });

  it("--version prints the version of next-cacheback", () => {
    const result = run(["--version"]);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe((JSON.parse(readFileSync(`${root}/package.json`, "utf8")) as { version: string }).version);
  });

  it("a missing or unknown command, or an unknown flag: a clear error and the usage, exit 2", () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /Missing the command: run `next-cacheback dev`/],
      [["serve"], /Unknown command 'serve': the only command is 'dev'/],
      [["--nope"], /Unknown flag '--nope'/],
    ];
    for (const [args, message] of cases) {
      const result = run(args);
      expect(result.status, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain("Usage: next-cacheback <command> [flags]");
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("dev runs the installed next-cacheback-dev in process: the same help, usage errors and exit codes", () => {
    const help = run(["dev", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(spawnSync(process.execPath, [cli, "dev", "--help"], { cwd: root, env: cleanEnv(), encoding: "utf8" }).stdout);
    const bad = run(["dev", "--redis-port", "http"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--redis-port must be a port number/);
    expect(bad.stderr).not.toContain("npm exec");
  });

  it("dev starts both servers, prints the env lines, and exits 0 on SIGINT", async () => {
    const started = startCli(["dev", "--redis-port", "0", "--qstash-port", "0", "--inspector-port", "0"], launcher);
    try {
      const env = await eventually(
        "the env lines",
        async () => {
          const parsed = parseEnvLines(started.stdout());
          return ENV_KEYS.every((name) => name in parsed) ? parsed : undefined;
        },
        15_000,
      );
      expect((await fetch(`${env.UPSTASH_REDIS_REST_URL}/healthz`)).status).toBe(200);
      started.child.kill("SIGINT");
      expect(await started.exit).toBe(0);
      expect(started.stderr()).toBe("");
    } finally {
      if (started.child.exitCode === null) started.child.kill("SIGKILL");
    }
  });

  it("asks npm exec for a range that accepts the next-cacheback-dev of this repository", () => {
    const range = /const DEV_PACKAGE_RANGE = "\^(\d+)\.(\d+)\.(\d+)";/.exec(readFileSync(`${root}/src/bin.ts`, "utf8"));
    expect(range).not.toBeNull();
    const dev = (JSON.parse(readFileSync(`${root}/packages/dev/package.json`, "utf8")) as { version: string }).version.split(".").map(Number);
    const [major, minor, patch] = range!.slice(1).map(Number) as [number, number, number];
    // A caret range: the same major (the same minor too below 1.0), and not older than the range's floor.
    expect(dev[0]).toBe(major);
    if (major === 0) expect(dev[1]).toBe(minor);
    expect(dev[1]! * 1e6 + dev[2]! >= minor * 1e6 + patch).toBe(true);
  });
});
