import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { arch, cpus, loadavg, platform, release, totalmem } from "node:os";
import type { Redis as IORedis } from "ioredis";

/** Where and when a run happened. */
export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  redis: string;
  /** 1, 5 and 15-minute load averages when the run started. */
  loadAtStart: [number, number, number];
  commit: string;
  versions: Record<string, string>;
}

const PACKAGES = ["@upstash/redis", "@upstash/qstash", "@epic-web/cachified", "bentocache", "@unkey/cache", "ioredis", "autocannon", "next", "vega"];

function version(name: string): string {
  try {
    const path = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

function commit(): string {
  try {
    const root = new URL("../../", import.meta.url).pathname;
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    const changed = execFileSync("git", ["status", "--porcelain", "--untracked-files=no", "--", "src", "bench", "example-next-app"], { cwd: root, encoding: "utf8" })
      .split("\n")
      .filter((line) => line.trim() !== "" && !/bench\/(RESULTS\.md|results\.json|chart\.svg)$/.test(line));
    return changed.length > 0 ? `${head} (with uncommitted changes to ${changed.length} file(s) in src/, bench/ or example-next-app/)` : head;
  } catch {
    return "unknown";
  }
}

/** Describes this machine, now. */
export async function describeMachine(admin: IORedis): Promise<Machine> {
  const info = (await admin.info("server")) as string;
  const load = loadavg();
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()} (${arch()})`,
    node: process.version,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown",
    loadAtStart: [load[0]!, load[1]!, load[2]!].map((x) => Math.round(x * 100) / 100) as [number, number, number],
    commit: commit(),
    versions: Object.fromEntries(PACKAGES.map((p) => [p, version(p)])),
  };
}
