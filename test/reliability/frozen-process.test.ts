import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cacheback } from "../../src/cacheback.js";
import { ensureBuilt, ROOT } from "../helpers/built-package.js";
import { eventually } from "../helpers/wait.js";
import { startStack, type Stack } from "./fixture.js";

// A serverless function that served a stale response and was then frozen (here: killed with SIGKILL right
// after its waitUntil work settled). The refresh must still happen, because it went through QStash: the
// QStash server delivers it to the refresh route of another, live instance (this process).

let stack: Stack;
let cb: Cacheback;
let sourceCalls = 0;
let childGone!: () => void;
const childGonePromise = new Promise<void>((resolve) => (childGone = resolve));
const deliveredWhileChildAlive: boolean[] = [];

beforeAll(async () => {
  ensureBuilt();
  stack = await startStack({ label: "frozen" });
  cb = stack.instance();
  const handler = cb.createRefreshHandler({
    jobs: {
      quote: async (symbol: string) => {
        sourceCalls++;
        return { symbol, from: "refresh" };
      },
    },
  });
  // The route holds each delivery until the child is dead, so the refresh provably runs after the freeze.
  let childDead = false;
  void childGonePromise.then(() => (childDead = true));
  stack.route(async (request) => {
    deliveredWhileChildAlive.push(!childDead);
    await childGonePromise;
    return handler(request);
  });
}, 120_000);

afterAll(async () => {
  childGone?.();
  await stack?.close();
});

describe("a process killed right after it served a stale response", () => {
  it("the refresh still happens: QStash delivers it to a live instance, and the entry becomes fresh with the new value", async () => {
    await cb.set(["quote", "FROZEN"], { symbol: "FROZEN", from: "seed" }, { lifetime: 0 });
    const child = spawn(process.execPath, ["test/fixtures/stale-then-frozen.mjs"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...stack.appEnv(), CACHEBACK_REFRESH_URL: stack.refreshUrl, CACHEBACK_PREFIX: cb.prefix, READ_KEY: "FROZEN" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", resolve);
      child.once("exit", () => reject(new Error("the child exited before it printed its read")));
    });
    expect(JSON.parse(firstLine)).toEqual({ status: "stale", value: { symbol: "FROZEN", from: "seed" }, refreshScheduled: true });

    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    childGone();

    await eventually("the refreshed entry", async () => (await cb.peek(["quote", "FROZEN"])).status === "hit", 15_000);
    expect((await cb.peek(["quote", "FROZEN"])).value).toEqual({ symbol: "FROZEN", from: "refresh" });
    expect(sourceCalls).toBe(1);
    const messages = stack.messagesAbout('"args":["FROZEN"]');
    expect(messages).toHaveLength(1);
    expect(messages[0]!.state).toBe("DELIVERED");
    expect(messages[0]!.attempts.map((a) => a.status)).toEqual([200]);
    expect(stack.app.answers.filter((a) => a.body.includes("FROZEN")).map((a) => a.status)).toEqual([200]);
  }, 60_000);
});
