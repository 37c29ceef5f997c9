import { describe, expect, it, vi } from "vitest";
import { CachebackKeyError } from "../../src/errors.js";
import { canonicalJson, entryId, MAX_ARGS_DEPTH, splitKey } from "../../src/keys.js";
import { createRefreshHandler } from "../../src/route/handler.js";
import { harness } from "../helpers/harness.js";
import { REFRESH_URL, TEST_KEYS, signedRequest } from "../helpers/signed-request.js";

// Regressions found by the hostile-request suite (test/reliability/hostile-requests.test.ts):
// - args `[{"__proto__": {...}}]` (an own key, as JSON.parse makes it) got the same cache key as `[{}]`;
// - args nested a few thousand levels deep overflowed the stack in the refresh route (a throw, so a 500
//   that QStash retried for ever) instead of a clear non-retryable answer;
// - `__proto__` / `constructor` keys in args reached the job unchecked.

const deep = (depth: number): unknown => JSON.parse("[".repeat(depth) + "]".repeat(depth));

describe("key arguments from hostile input", () => {
  it("an own __proto__ key is part of the canonical JSON: no collision with an empty object", () => {
    const parsed = JSON.parse('[{"__proto__":{"admin":true}}]') as unknown[];
    expect(canonicalJson(parsed)).toBe('[{"__proto__":{"admin":true}}]');
    expect(canonicalJson(parsed)).not.toBe(canonicalJson([{}]));
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it.each([
    ["__proto__", JSON.parse('{"__proto__":{"polluted":true}}') as unknown],
    ["constructor", { constructor: { prototype: { polluted: true } } }],
    ["prototype", { nested: [{ prototype: 1 }] }],
  ])("a read refuses args with a %s key, naming the path", (key, arg) => {
    expect(() => splitKey(["search", arg])).toThrow(CachebackKeyError);
    expect(() => splitKey(["search", arg])).toThrow(`uses the key "${key}"`);
  });

  it(`a read refuses args nested deeper than ${MAX_ARGS_DEPTH} levels, even 100,000 deep, without exhausting the stack`, () => {
    expect(() => splitKey(["search", deep(MAX_ARGS_DEPTH)])).not.toThrow();
    expect(() => splitKey(["search", deep(MAX_ARGS_DEPTH + 1)])).toThrow(`nested more than ${MAX_ARGS_DEPTH} levels deep`);
    expect(() => splitKey(["search", deep(100_000)])).toThrow(CachebackKeyError);
    expect(entryId("search", [deep(3)])).toBe("search:[[[[]]]]");
  });

  it.each([
    ["args nested 100,000 levels deep", `[${"[".repeat(100_000)}${"]".repeat(100_000)}]`, "nested more than"],
    ["an own __proto__ key in args", '[{"__proto__":{"polluted":true}}]', 'uses the key "__proto__"'],
    ["a constructor key in args", '[{"constructor":{"prototype":{"polluted":true}}}]', 'uses the key "constructor"'],
  ])("the refresh route answers 489 non-retryable to %s and runs nothing", async (_label, args, reason) => {
    const h = harness({ signingKeys: TEST_KEYS, refreshUrl: REFRESH_URL });
    const search = vi.fn(async () => "ran");
    const handler = createRefreshHandler({ jobs: { search }, cacheback: h.cb });
    const body = `{"v":1,"job":"search","args":${args},"lock":"l","queuedAt":1,"options":{"lifetime":60,"ttl":3600,"refreshTimeout":30}}`;
    const res = await handler(await signedRequest(body));
    expect(res.status).toBe(489);
    expect(res.headers.get("upstash-nonretryable-error")).toBe("true");
    expect(((await res.json()) as { error: string }).error).toContain(reason);
    expect(search).not.toHaveBeenCalled();
    expect(h.store.size).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
