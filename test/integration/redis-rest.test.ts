import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_REDIS_TOKEN, startRedisRestServer, type RedisRestServer } from "../../packages/dev/src/index.js";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { eventually, randomPrefix } from "../helpers/wait.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = randomPrefix("redis-rest");
const key = (name: string): string => `${prefix}${name}`;

let server: RedisRestServer;
let raw: IORedis;
let redis: Redis;

interface RawAnswer {
  status: number;
  body: { result?: unknown; error?: string } & Array<{ result?: unknown; error?: string }>;
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as RawAnswer["body"] };
}

const base64 = { "upstash-encoding": "base64" };

beforeAll(async () => {
  server = await startRedisRestServer({ port: 0, redisUrl: REDIS_URL });
  raw = new IORedis(REDIS_URL);
  redis = new Redis({ url: server.url, token: server.token });
});

afterAll(async () => {
  const keys = await raw.keys(`${prefix}*`);
  if (keys.length > 0) await raw.del(...keys);
  raw.disconnect();
  await server.close();
});

describe("the official @upstash/redis client", () => {
  it("defaults to the documented dev token", () => {
    expect(server.token).toBe(DEV_REDIS_TOKEN);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it("round-trips strings, unicode and emoji byte-exact", async () => {
    const values = ["hello", "héllo wörld", "日本語テキスト", "😀🎉👩‍👩‍👧‍👦", "mixed ∑ 😀 \" ' \\ / end", "", " leading and trailing "];
    for (const [i, value] of values.entries()) {
      expect(await redis.set(key(`str:${i}`), value)).toBe("OK");
      expect(await redis.get(key(`str:${i}`))).toBe(value);
      expect(Buffer.compare((await raw.getBuffer(key(`str:${i}`)))!, Buffer.from(value, "utf8"))).toBe(0);
    }
  });

  it("round-trips numbers, and counters count", async () => {
    await redis.set(key("num:int"), 42);
    expect(await redis.get(key("num:int"))).toBe(42);
    await redis.set(key("num:float"), 1.5);
    expect(await raw.get(key("num:float"))).toBe("1.5");
    expect(await redis.get(key("num:float"))).toBe(1.5);
    expect(await redis.incr(key("num:int"))).toBe(43);
    expect(await redis.incrby(key("num:int"), 100)).toBe(143);
    expect(await redis.incrbyfloat(key("num:float"), 0.25)).toBe(1.75);
    expect(await redis.decr(key("num:int"))).toBe(142);
  });

  it("round-trips JSON objects and arrays", async () => {
    const value = { a: 1, b: [1, "two", { three: 3 }], c: { d: null, e: true }, emoji: "🚀", quote: 'say "hi"' };
    await redis.set(key("json:obj"), value);
    expect(await redis.get(key("json:obj"))).toEqual(value);
    await redis.set(key("json:arr"), [1, "x", null]);
    expect(await redis.get(key("json:arr"))).toEqual([1, "x", null]);
    await redis.hset(key("json:hash"), { name: "Ada", age: 36, tags: ["x", "y"] });
    expect(await redis.hgetall(key("json:hash"))).toEqual({ name: "Ada", age: 36, tags: ["x", "y"] });
  });

  it("applies set options ex, px, nx and xx", async () => {
    expect(await redis.set(key("opt:ex"), "v", { ex: 100 })).toBe("OK");
    const ttl = await redis.ttl(key("opt:ex"));
    expect(ttl).toBeGreaterThan(90);
    expect(ttl).toBeLessThanOrEqual(100);
    expect(await redis.set(key("opt:px"), "v", { px: 50_000 })).toBe("OK");
    const pttl = await redis.pttl(key("opt:px"));
    expect(pttl).toBeGreaterThan(40_000);
    expect(pttl).toBeLessThanOrEqual(50_000);
    expect(await redis.set(key("opt:nx"), "first", { nx: true })).toBe("OK");
    expect(await redis.set(key("opt:nx"), "second", { nx: true })).toBeNull();
    expect(await redis.get(key("opt:nx"))).toBe("first");
    expect(await redis.set(key("opt:xx-missing"), "v", { xx: true })).toBeNull();
    expect(await redis.exists(key("opt:xx-missing"))).toBe(0);
  });

  it("reads several keys with mget, nil for a missing one", async () => {
    await redis.set(key("mget:1"), "one");
    await redis.set(key("mget:2"), { two: 2 });
    expect(await redis.mget(key("mget:1"), key("mget:2"), key("mget:missing"))).toEqual(["one", { two: 2 }, null]);
  });

  it("runs a pipeline, errors per entry", async () => {
    const p = redis.pipeline();
    p.set(key("pipe:a"), "text");
    p.get(key("pipe:a"));
    p.incr(key("pipe:a"));
    p.set(key("pipe:n"), 5);
    p.incr(key("pipe:n"));
    const results = await p.exec({ keepErrors: true });
    expect(results.map((r) => r.result)).toEqual(["OK", "text", undefined, "OK", 6]);
    expect(results[2]!.error).toBe("ERR value is not an integer or out of range");

    const failing = redis.pipeline();
    failing.get(key("pipe:a"));
    failing.incr(key("pipe:a"));
    await expect(failing.exec()).rejects.toThrow(/Command 2 \[ incr \] failed: ERR value is not an integer/);
  });

  it("runs a transaction; runtime errors are per entry", async () => {
    const m = redis.multi();
    m.set(key("tx:a"), "text");
    m.get(key("tx:a"));
    m.incr(key("tx:a"));
    m.lpush(key("tx:list"), "x", "y");
    const results = await m.exec({ keepErrors: true });
    expect(results.map((r) => r.result)).toEqual(["OK", "text", undefined, 2]);
    expect(results[2]!.error).toBe("ERR value is not an integer or out of range");
    expect(server.stats().transactions).toBeGreaterThan(0);
  });

  it("throws for a transaction Redis aborts, and runs none of it", async () => {
    const m = redis.multi();
    m.set(key("tx:aborted"), "never");
    m.hset(key("tx:hash"), {});
    await expect(m.exec()).rejects.toThrow(/EXECABORT Transaction discarded because of previous errors.*wrong number of arguments/);
    expect(await raw.exists(key("tx:aborted"))).toBe(0);
  });

  it("batches concurrent commands with auto-pipelining on (the default)", async () => {
    const auto = new Redis({ url: server.url, token: server.token });
    await Promise.all(Array.from({ length: 10 }, (_, i) => auto.set(key(`auto:${i}`), i)));
    server.resetStats();
    const values = await Promise.all(Array.from({ length: 10 }, (_, i) => auto.get(key(`auto:${i}`))));
    expect(values).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(server.stats()).toEqual({ requests: 1, commands: 10, pipelines: 1, transactions: 0 });
  });

  it("sends one request per command with auto-pipelining off", async () => {
    const plain = new Redis({ url: server.url, token: server.token, enableAutoPipelining: false });
    server.resetStats();
    const values = await Promise.all(Array.from({ length: 10 }, (_, i) => plain.get(key(`auto:${i}`))));
    expect(values).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(server.stats()).toEqual({ requests: 10, commands: 10, pipelines: 0, transactions: 0 });
  });

  it("runs a Script: EVALSHA answers NOSCRIPT after SCRIPT FLUSH, the client falls back to EVAL", async () => {
    const source = `return {ARGV[1], redis.call("INCR", KEYS[1])}`;
    const script = redis.createScript<[string, number]>(source);
    const sha = await raw.script("LOAD", source);
    expect(await redis.exec(["script", "flush"])).toBe("OK");
    const noscript = await post("/", ["evalsha", sha, 1, key("script:n"), "x"]);
    expect(noscript).toEqual({ status: 400, body: { error: "NOSCRIPT No matching script. Please use EVAL." } });

    server.resetStats();
    expect(await script.exec([key("script:n")], ["first"])).toEqual(["first", 1]);
    expect(server.stats().commands).toBe(2);
    server.resetStats();
    expect(await script.exec([key("script:n")], ["second"])).toEqual(["second", 2]);
    expect(server.stats().commands).toBe(1);
  });

  it("throws for a wrong token", async () => {
    const intruder = new Redis({ url: server.url, token: "wrong-token", enableAutoPipelining: false });
    await expect(intruder.get(key("anything"))).rejects.toThrow(/Invalid token/);
    const intruderAuto = new Redis({ url: server.url, token: "wrong-token" });
    await expect(intruderAuto.get(key("anything"))).rejects.toThrow(/Invalid token/);
  });

  const lookalikes = ["PONG", "OK", "12", "f1", "abcd", "T0s=", "QUEUED", "aGVsbG8=", "null", "true", "0", "-1"];

  for (const responseEncoding of [undefined, false] as const) {
    const label = responseEncoding === false ? "responseEncoding: false" : "base64 encoding (default)";

    it(`returns values that are valid base64 by accident unchanged, ${label}`, async () => {
      const exact = new Redis({
        url: server.url,
        token: server.token,
        automaticDeserialization: false,
        ...(responseEncoding === false ? { responseEncoding } : {}),
      });
      expect(await exact.ping()).toBe("PONG");
      expect(await exact.echo("f1")).toBe("f1");
      for (const [i, value] of lookalikes.entries()) {
        expect(await exact.set(key(`look:${i}`), value)).toBe("OK");
        expect(await exact.get(key(`look:${i}`))).toBe(value);
      }
      expect(await exact.mget(...lookalikes.map((_, i) => key(`look:${i}`)))).toEqual(lookalikes);
      await exact.del(key("look:list"));
      await exact.rpush(key("look:list"), ...lookalikes);
      expect(await exact.lrange(key("look:list"), 0, -1)).toEqual(lookalikes);
      const p = exact.pipeline();
      p.ping();
      p.set(key("look:p"), "abcd");
      p.get(key("look:p"));
      p.incr(key("look:count"));
      expect(await p.exec()).toEqual(["PONG", "OK", "abcd", 1]);
      await exact.del(key("look:count"));
    });

    it(`round-trips binary-ish strings, ${label}`, async () => {
      const client = new Redis({
        url: server.url,
        token: server.token,
        automaticDeserialization: false,
        ...(responseEncoding === false ? { responseEncoding } : {}),
      });
      const values = ["\u0000\u0001\u0002", "\u00ff\u00fe", "tab\tnew\nline\r", "\u007f\u0080\u009f", "mid\ufeffbom", "back\\slash\"quote"];
      for (const [i, value] of values.entries()) {
        await client.set(key(`bin:${i}`), value);
        expect(await client.get(key(`bin:${i}`))).toBe(value);
        expect(Buffer.compare((await raw.getBuffer(key(`bin:${i}`)))!, Buffer.from(value, "utf8"))).toBe(0);
      }
    });
  }
});

describe("raw HTTP", () => {
  it("answers a welcome on GET / and 200 on GET /healthz", async () => {
    const welcome = await fetch(`${server.url}/`);
    expect(welcome.status).toBe(200);
    expect(((await welcome.json()) as { result: string }).result).toMatch(/Upstash Redis REST server/);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", redis: "ready" });
  });

  it("encodes every string of a result in base64 when asked, status replies included, errors never", async () => {
    expect(await post("/", ["ping"], base64)).toEqual({ status: 200, body: { result: "UE9ORw==" } });
    expect(await post("/", ["ping"])).toEqual({ status: 200, body: { result: "PONG" } });
    expect(await post("/", ["set", key("b64"), "héllo"], base64)).toEqual({ status: 200, body: { result: "T0s=" } });
    expect(await post("/", ["get", key("b64")], base64)).toEqual({
      status: 200,
      body: { result: Buffer.from("héllo").toString("base64") },
    });
    expect(await post("/pipeline", [["set", key("b64"), "x"], ["get", key("b64")], ["incr", key("b64")], ["exists", key("b64")]], base64)).toEqual({
      status: 200,
      body: [{ result: "T0s=" }, { result: "eA==" }, { error: "ERR value is not an integer or out of range" }, { result: 1 }],
    });
    expect(await post("/multi-exec", [["set", key("b64"), "y"], ["get", key("b64")]], base64)).toEqual({
      status: 200,
      body: [{ result: "T0s=" }, { result: "eQ==" }],
    });
    expect(await post("/", ["incr", key("b64")], base64)).toEqual({
      status: 400,
      body: { error: "ERR value is not an integer or out of range" },
    });
  });

  it("encodes a leading byte order mark like any other bytes", async () => {
    await raw.set(key("bom"), "\ufeffbom");
    const answer = await post("/", ["get", key("bom")], base64);
    expect(Buffer.from(answer.body.result as string, "base64").toString("utf8")).toBe("\ufeffbom");
    expect((await post("/", ["get", key("bom")])).body.result).toBe("\ufeffbom");
  });

  it("keeps the exact bytes of values that are not UTF-8 in base64 mode", async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3]);
    await raw.set(key("bytes"), bytes);
    const answer = await post("/", ["get", key("bytes")], base64);
    expect(Buffer.compare(Buffer.from(answer.body.result as string, "base64"), bytes)).toBe(0);
    const nested = await post("/", ["mget", key("bytes"), key("no-such-key")], base64);
    expect(nested.body.result).toEqual([bytes.toString("base64"), null]);
  });

  it("turns JSON numbers and booleans into the text Redis expects, and answers integers digit for digit", async () => {
    await post("/", ["set", key("conv:bool"), true]);
    expect(await raw.get(key("conv:bool"))).toBe("true");
    await post("/", ["set", key("conv:float"), 1.5]);
    expect(await raw.get(key("conv:float"))).toBe("1.5");
    await post("/", ["set", key("conv:ex"), "v", "ex", 30]);
    expect(await raw.ttl(key("conv:ex"))).toBeGreaterThan(20);
    await raw.set(key("conv:big"), "9007199254740990");
    const res = await fetch(server.url, {
      method: "POST",
      headers: { authorization: `Bearer ${server.token}` },
      body: JSON.stringify(["incrby", key("conv:big"), "3"]),
    });
    expect(await res.text()).toBe('{"result":9007199254740993}');
  });

  it("answers a Redis error with 400 and Redis's message", async () => {
    expect(await post("/", ["nosuchcommand", "x"])).toEqual({
      status: 400,
      body: { error: "ERR unknown command 'nosuchcommand', with args beginning with: 'x' " },
    });
    expect(await post("/", ["get"])).toEqual({ status: 400, body: { error: "ERR wrong number of arguments for 'get' command" } });
  });

  it("answers an aborted transaction with 400 EXECABORT and runs none of it", async () => {
    const answer = await post("/multi-exec", [["set", key("abort"), "x"], ["set", key("abort")]]);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatch(/^EXECABORT Transaction discarded because of previous errors: ERR wrong number of arguments for 'set' command/);
    expect(await raw.exists(key("abort"))).toBe(0);
  });

  it("refuses a missing or wrong token with 401", async () => {
    const missing = await fetch(server.url, { method: "POST", body: '["ping"]' });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: string }).error).toMatch(/^Unauthorized/);
    expect(await post("/", ["ping"], { authorization: "Bearer nope" })).toEqual({ status: 401, body: { error: "Invalid token" } });
    expect(await post("/pipeline", [["ping"]], { authorization: "Basic abc" })).toEqual({ status: 401, body: { error: "Invalid token" } });
  });

  const badBodies: Array<[string, string, string, RegExp]> = [
    ["malformed JSON", "/", '["set", "k"', /not valid JSON/],
    ["an empty body", "/", "", /body is empty/],
    ["an object", "/", '{"command":"ping"}', /must be a JSON array/],
    ["a string", "/", '"ping"', /must be a JSON array/],
    ["an empty command", "/", "[]", /empty array/],
    ["a non-string command name", "/", "[1, 2]", /command name/],
    ["an object argument", "/", '["set", "k", {"a": 1}]', /element 3 must be a string, number or boolean, got an object/],
    ["a null argument", "/", '["set", "k", null]', /got null/],
    ["a nested array argument", "/", '["set", "k", ["v"]]', /got an array/],
    ["a pipeline that is not an array", "/pipeline", '{"a":1}', /array of commands/],
    ["an empty pipeline", "/pipeline", "[]", /empty array/],
    ["a pipeline of non-arrays", "/pipeline", '["ping"]', /Command 1 must be a JSON array/],
    ["a pipeline with a bad argument", "/pipeline", '[["ping"], ["set", "k", {}]]', /Command 2 \('set'\): element 3/],
    ["an empty transaction", "/multi-exec", "[]", /empty array/],
    ["malformed JSON in a transaction", "/multi-exec", "[[", /not valid JSON/],
  ];
  for (const [label, path, body, message] of badBodies) {
    it(`answers 400 for ${label} on ${path}`, async () => {
      const answer = await post(path, body);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatch(message);
    });
  }

  it("answers 404 for an unknown path and 405 for a wrong method", async () => {
    const unknown = await fetch(`${server.url}/no-such-endpoint`, { method: "POST", headers: { authorization: `Bearer ${server.token}` } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/^Not found/);
    for (const [method, path] of [["PUT", "/"], ["DELETE", "/"], ["GET", "/pipeline"], ["GET", "/multi-exec"], ["POST", "/healthz"], ["DELETE", "/get/x"]] as const) {
      const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${server.token}` } });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(((await res.json()) as { error: string }).error).toMatch(/is not allowed/);
    }
  });

  it("answers 413 for a body over the limit, and keeps serving", async () => {
    const small = await startRedisRestServer({ port: 0, redisUrl: REDIS_URL, maxBodyBytes: 1024 });
    try {
      const big = JSON.stringify(["set", key("big"), "x".repeat(2048)]);
      const res = await fetch(small.url, { method: "POST", headers: { authorization: `Bearer ${small.token}` }, body: big });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: string }).error).toMatch(/larger than the limit of 1024 bytes/);
      const streamed = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode(big.slice(i * 600, (i + 1) * 600)));
          controller.close();
        },
      });
      const chunked = await fetch(small.url, {
        method: "POST",
        headers: { authorization: `Bearer ${small.token}` },
        body: streamed,
        duplex: "half",
      } as RequestInit);
      expect(chunked.status).toBe(413);
      const ok = await fetch(small.url, { method: "POST", headers: { authorization: `Bearer ${small.token}` }, body: '["ping"]' });
      expect(await ok.json()).toEqual({ result: "PONG" });
      expect(await raw.exists(key("big"))).toBe(0);
    } finally {
      await small.close();
    }
  });

  it("refuses commands that would break the shared connection, with 400 saying why", async () => {
    const refused: Array<[unknown[], RegExp]> = [
      [["subscribe", "chan"], /'subscribe' is not supported over REST: it would take over/],
      [["psubscribe", "ch*"], /'psubscribe' is not supported over REST/],
      [["monitor"], /'monitor' is not supported over REST/],
      [["select", 1], /'select' is not supported over REST.*REDIS_URL/],
      [["quit"], /'quit' is not supported over REST/],
      [["hello", 3], /'hello' is not supported over REST/],
      [["client", "reply", "off"], /'client reply' is not supported over REST/],
      [["multi"], /'multi' is not supported as a single command: send the whole transaction to POST \/multi-exec/],
      [["exec"], /'exec' is not supported as a single command/],
      [["watch", "k"], /'watch' is not supported as a single command/],
      [["blpop", key("list"), 0], /'blpop' with timeout 0 would block forever/],
      [["brpoplpush", key("a"), key("b"), "0"], /'brpoplpush' with timeout 0/],
      [["blmpop", "0", 1, key("list"), "LEFT"], /'blmpop' with timeout 0/],
      [["xread", "BLOCK", 0, "STREAMS", key("s"), "$"], /'xread' with timeout 0/],
    ];
    for (const [command, message] of refused) {
      const answer = await post("/", command);
      expect(answer.status, JSON.stringify(command)).toBe(400);
      expect(answer.body.error).toMatch(message);
    }
    const client = await post("/", ["client", "id"]);
    expect(client.status).toBe(200);
    expect(typeof client.body.result).toBe("number");
    expect(await post("/", ["ping"])).toEqual({ status: 200, body: { result: "PONG" } });
  });

  it("refuses such commands per entry in a pipeline, and for the whole transaction", async () => {
    const pipeline = await post("/pipeline", [["set", key("refuse"), "v"], ["subscribe", "chan"], ["get", key("refuse")]]);
    expect(pipeline.status).toBe(200);
    expect(pipeline.body[0]).toEqual({ result: "OK" });
    expect(pipeline.body[1]!.error).toMatch(/'subscribe' is not supported over REST/);
    expect(pipeline.body[2]).toEqual({ result: "v" });
    const tx = await post("/multi-exec", [["set", key("refuse-tx"), "v"], ["watch", key("refuse-tx")]]);
    expect(tx.status).toBe(400);
    expect(tx.body.error).toMatch(/Command 2: ERR 'watch' cannot appear inside a transaction/);
    expect(await raw.exists(key("refuse-tx"))).toBe(0);
    const blockingInTx = await post("/multi-exec", [["rpush", key("txlist"), "a"], ["blpop", key("txlist"), 0]]);
    expect(blockingInTx).toEqual({ status: 200, body: [{ result: 1 }, { result: [key("txlist"), "a"] }] });
  });

  it("runs a blocking command with a timeout on its own connection, without stalling other requests", async () => {
    const blockedOnOwnConnection = async (): Promise<boolean> =>
      /name=next-cacheback-dev-blocking .*cmd=blpop/.test(String(await raw.client("LIST")));
    const started = Date.now();
    const blocking = post("/", ["blpop", key("empty-list"), 1]);
    await eventually("the blocked BLPOP", blockedOnOwnConnection);
    const pingStarted = Date.now();
    expect(await post("/", ["ping"])).toEqual({ status: 200, body: { result: "PONG" } });
    expect(Date.now() - pingStarted).toBeLessThan(250);
    expect(await blocking).toEqual({ status: 200, body: { result: null } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);

    const pushed = post("/pipeline", [["blpop", key("soon"), 5], ["get", key("nothing")]]);
    await eventually("the blocked BLPOP in a pipeline", blockedOnOwnConnection);
    await raw.rpush(key("soon"), "item");
    expect(await pushed).toEqual({ status: 200, body: [{ result: [key("soon"), "item"] }, { result: null }] });
  });

  it("accepts the path form: GET and POST /<command>/<arg>...", async () => {
    const headers = { authorization: `Bearer ${server.token}` };
    const set = await fetch(`${server.url}/set/${encodeURIComponent(key("path"))}/${encodeURIComponent("a value/with slash")}`, { headers });
    expect(await set.json()).toEqual({ result: "OK" });
    const get = await fetch(`${server.url}/get/${encodeURIComponent(key("path"))}`, { headers });
    expect(await get.json()).toEqual({ result: "a value/with slash" });
    const posted = await fetch(`${server.url}/set/${encodeURIComponent(key("path-body"))}`, { method: "POST", headers, body: "raw body 😀" });
    expect(await posted.json()).toEqual({ result: "OK" });
    expect(await raw.get(key("path-body"))).toBe("raw body 😀");
    const hset = await fetch(`${server.url}/hset/${encodeURIComponent(key("path-hash"))}/field`, { method: "POST", headers, body: "v" });
    expect(await hset.json()).toEqual({ result: 1 });
    expect(await raw.hgetall(key("path-hash"))).toEqual({ field: "v" });
    const byQuery = await fetch(`${server.url}/get/${encodeURIComponent(key("path"))}?_token=${server.token}`);
    expect(await byQuery.json()).toEqual({ result: "a value/with slash" });
  });

  it("counts requests, commands, pipelines and transactions", async () => {
    server.resetStats();
    expect(server.stats()).toEqual({ requests: 0, commands: 0, pipelines: 0, transactions: 0 });
    await post("/", ["ping"]);
    await post("/pipeline", [["ping"], ["ping"], ["ping"]]);
    await post("/multi-exec", [["ping"], ["ping"]]);
    await post("/", "not json");
    expect(server.stats()).toEqual({ requests: 4, commands: 6, pipelines: 1, transactions: 1 });
  });
});

describe("when Redis is unreachable", () => {
  it("answers 500 with what to do, quickly, and keeps answering /healthz", async () => {
    const down = await startRedisRestServer({ port: 0, redisUrl: "redis://127.0.0.1:1" });
    try {
      const headers = { authorization: `Bearer ${down.token}` };
      for (const path of ["/", "/pipeline", "/multi-exec"]) {
        const started = Date.now();
        const res = await fetch(`${down.url}${path}`, { method: "POST", headers, body: path === "/" ? '["get","k"]' : '[["get","k"]]' });
        expect(res.status, path).toBe(500);
        const { error } = (await res.json()) as { error: string };
        expect(error).toMatch(
          /^Redis is unreachable at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*\. Start redis-server or set REDIS_URL\.$/,
        );
        expect(Date.now() - started).toBeLessThan(1_000);
      }
      const client = new Redis({ url: down.url, token: down.token, retry: false });
      await expect(client.get("k")).rejects.toThrow(/Redis is unreachable/);
      const health = await fetch(`${down.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok", redis: "unreachable" });
    } finally {
      await down.close();
    }
  });

  it("recovers by itself when Redis comes back", async () => {
    const target = new URL(REDIS_URL);
    const proxy = await startFaultProxy(Number(target.port || 6379), target.hostname);
    const flaky = await startRedisRestServer({ port: 0, redisUrl: `redis://127.0.0.1:${proxy.port}` });
    const client = new Redis({ url: flaky.url, token: flaky.token, retry: false });
    try {
      expect(await client.set(key("flaky"), "before")).toBe("OK");
      await proxy.stop();
      await eventually("a 500 while Redis is away", async () => {
        const res = await fetch(flaky.url, { method: "POST", headers: { authorization: `Bearer ${flaky.token}` }, body: '["ping"]' });
        return res.status === 500 && /Redis is unreachable/.test(((await res.json()) as { error: string }).error);
      });
      expect((await fetch(`${flaky.url}/healthz`)).status).toBe(200);
      await proxy.start();
      await eventually("service back", async () => (await client.get(key("flaky"))) === "before");
    } finally {
      await flaky.close();
      await proxy.close();
    }
  });
});
