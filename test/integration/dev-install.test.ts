/**
 * What an app gets from `npm install next-cacheback`: the packed library (no dev servers, no ioredis), and
 * `npx next-cacheback dev` still starting the dev servers in one command, with next-cacheback-dev fetched by
 * `npm exec` (here from its packed tarball, through NEXT_CACHEBACK_DEV_PACKAGE) and next-cacheback itself
 * linked from the app, never asked of the registry.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, ROOT } from "../helpers/built-package.js";
import { closedPort } from "../helpers/recording-receiver.js";
import { eventually } from "../helpers/wait.js";

const rootPackage = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> };

let work: string;
let app: string;
let devTarball: string;
let npxCache: string;
let npxBefore: Set<string>;

/** This process's environment without Upstash variables, plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(UPSTASH_|QSTASH_|KV_REST_|NEXT_CACHEBACK_)/.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

function pack(dir: string): string {
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: dir, encoding: "utf8" });
  return join(work, (JSON.parse(out) as Array<{ filename: string }>)[0]!.filename);
}

beforeAll(() => {
  ensureBuilt();
  work = mkdtempSync(join(tmpdir(), "next-cacheback-install-"));
  const mainTarball = pack(ROOT);
  devTarball = pack(join(ROOT, "packages", "dev"));
  app = join(work, "app");
  execFileSync("mkdir", [app]);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "fresh-app", version: "1.0.0", private: true, type: "module" }));
  execFileSync(
    "npm",
    [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      mainTarball,
      `@upstash/redis@${rootPackage.devDependencies["@upstash/redis"]}`,
      `@upstash/qstash@${rootPackage.devDependencies["@upstash/qstash"]}`,
    ],
    { cwd: app, stdio: "ignore", env: cleanEnv({}) },
  );
  npxCache = join(execFileSync("npm", ["config", "get", "cache"], { cwd: app, encoding: "utf8" }).trim(), "_npx");
  npxBefore = new Set(existsSync(npxCache) ? readdirSync(npxCache) : []);
}, 120_000);

afterAll(() => {
  // npm exec keeps what it installed under <npm cache>/_npx/<hash>: remove the entries this file made.
  if (npxCache !== undefined && existsSync(npxCache)) {
    for (const entry of readdirSync(npxCache)) {
      if (npxBefore.has(entry)) continue;
      const manifest = join(npxCache, entry, "package.json");
      if (existsSync(manifest) && readFileSync(manifest, "utf8").includes(work)) rmSync(join(npxCache, entry), { recursive: true, force: true });
    }
  }
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe("an app that installed only next-cacheback", () => {
  it("has no dev server code and no ioredis in its node_modules", () => {
    expect(existsSync(join(app, "node_modules", "next-cacheback", "package.json"))).toBe(true);
    expect(existsSync(join(app, "node_modules", "ioredis"))).toBe(false);
    expect(existsSync(join(app, "node_modules", "next-cacheback-dev"))).toBe(false);
    expect(existsSync(join(app, "node_modules", "next-cacheback", "dist", "dev"))).toBe(false);
  });

  it("starts the dev servers with npx next-cacheback dev, and stops on Ctrl-C with exit code 0", async () => {
    const [redisPort, qstashPort, inspectorPort] = [await closedPort(), await closedPort(), await closedPort()];
    // A new process group, signalled as a whole: what Ctrl-C in a terminal does. npm runs a bin through its
    // script shell; Debian's sh (dash) then dies of the SIGINT itself even when the command exits 0, so npx
    // would report the signal whatever next-cacheback does. bash hands the command over (exec), so the exit
    // code seen here is next-cacheback's own.
    const child: ChildProcess = spawn("npx", ["next-cacheback", "dev", "--redis-port", String(redisPort), "--qstash-port", String(qstashPort), "--inspector-port", String(inspectorPort)], {
      cwd: app,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: cleanEnv({
        NEXT_CACHEBACK_DEV_PACKAGE: devTarball,
        npm_config_prefer_offline: "true",
        npm_config_script_shell: "bash",
        // npm logs each package it looks up: the registry must never be asked for next-cacheback.
        npm_config_loglevel: "http",
      }),
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    // "close", not "exit": output may still be arriving when the process has exited.
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("close", (code, signal) => resolve({ code, signal })),
    );
    try {
      await eventually("the env lines", async () => stdout.includes("CACHEBACK_REFRESH_URL=") || child.exitCode !== null, 60_000);
      expect(stdout, stderr).toContain(`UPSTASH_REDIS_REST_URL=http://127.0.0.1:${redisPort}`);
      expect(stdout).toContain(`QSTASH_URL=http://127.0.0.1:${qstashPort}`);
      expect(stderr).toContain("NEXT_CACHEBACK_DEV_PACKAGE");
      expect(stderr).toMatch(/npm http \S+ next-cacheback-dev@file:/);
      expect(stderr).toMatch(/npm http fetch GET \d+ \S+\/ioredis /);
      expect(stderr).not.toMatch(/npm http fetch \S+ \d+ \S+\/next-cacheback\s/);
      const health = (await (await fetch(`http://127.0.0.1:${redisPort}/healthz`)).json()) as { status: string };
      expect(health.status).toBe("ok");
      const keys = await fetch(`http://127.0.0.1:${qstashPort}/v2/keys`, {
        headers: { authorization: `Bearer ${stdout.match(/^QSTASH_TOKEN=(.+)$/m)![1]}` },
      });
      expect(keys.status).toBe(200);
      // The inspector's page and the script and styles it loads ship in the package.
      expect(stdout).toContain(`Inspector: http://127.0.0.1:${inspectorPort}/`);
      for (const path of ["/", "/assets/inspector.js", "/assets/inspector.css"]) {
        expect((await fetch(`http://127.0.0.1:${inspectorPort}${path}`)).status, path).toBe(200);
      }

      process.kill(-child.pid!, "SIGINT");
      expect(await exit).toEqual({ code: 0, signal: null });
      expect(stdout).toContain("SIGINT: stopping the dev servers");
      await expect(fetch(`http://127.0.0.1:${redisPort}/healthz`)).rejects.toThrow();
      // npm exec installed next-cacheback-dev (and ioredis) in npm's cache, not in the app.
      expect(existsSync(join(app, "node_modules", "ioredis"))).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(-child.pid!, "SIGKILL");
        await exit;
      }
    }
  });
});
