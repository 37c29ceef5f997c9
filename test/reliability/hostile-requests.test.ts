import { request as httpRequest } from "node:http";
import type { Redis } from "@upstash/redis";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cacheback } from "../../src/cacheback.js";
import { CachebackConfigError } from "../../src/errors.js";
import { QStashQueue } from "../../src/queues/qstash.js";
import { bytesToBase64Url } from "../../src/qstash/encoding.js";
import { qstashBodyHash, signQStashMessage } from "../../src/qstash/signing.js";
import type { StandardSchema } from "../../src/schema.js";
import { serveFetch, type ServedHandler } from "../helpers/serve-fetch.js";
import { eventually, randomPrefix } from "../helpers/wait.js";
import { errorsOf, recordEvents, startStack, type Stack } from "./fixture.js";

// Hostile or malformed requests to a real refresh route (createRefreshHandler), served over HTTP, with real
// signing keys (random ones, which the QStash server signs its deliveries with). Two apps share one Redis and one QStash account (so one pair of signing keys) and differ
// by refresh URL and key prefix. Every case asserts the status code, that no job ran, that no key of either
// app changed, and that no prototype was polluted. The app layer builds each Request's URL from the Host /
// X-Forwarded-Host headers, as Next.js does, so forged headers reach the route the way they would there.

const KEYS = { current: `sig_${crypto.randomUUID().replaceAll("-", "")}`, next: `sig_${crypto.randomUUID().replaceAll("-", "")}` };
const OTHER_KEY = `sig_${crypto.randomUUID().replaceAll("-", "")}`;

let stack: Stack;
let redis: Redis;
let app: ServedHandler;
let urlA: string;
let urlB: string;
let a: Cacheback;
let b: Cacheback;
const calls = { quote: 0, profile: 0, search: 0, b: 0 };
const totalCalls = () => calls.quote + calls.profile + calls.search + calls.b;
const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();

/** A Standard Schema for the profile job's arguments: one positive integer id. */
const profileArgs: StandardSchema<[number]> = {
  "~standard": {
    version: 1,
    vendor: "reliability-test",
    validate: (value) =>
      Array.isArray(value) && value.length === 1 && Number.isInteger(value[0]) && (value[0] as number) > 0
        ? { value: value as [number] }
        : { issues: [{ message: "expected one positive integer id", path: [0] }] },
  },
};

/** Rebuilds the Request the way Next.js does: its URL comes from the (forgeable) Host / X-Forwarded-* headers. */
function asNextSeesIt(route: (r: Request) => Promise<Response>) {
  return async (request: Request): Promise<Response> => {
    const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host") ?? "localhost";
    const proto = request.headers.get("x-forwarded-proto") ?? "http";
    const { pathname, search } = new URL(request.url);
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
    return route(new Request(`${proto}://${host}${pathname}${search}`, { method: request.method, headers: request.headers, body }));
  };
}

beforeAll(async () => {
  stack = await startStack({ label: "hostile", qstash: { currentSigningKey: KEYS.current, nextSigningKey: KEYS.next } });
  redis = stack.redisClient();
  let routeA: (r: Request) => Promise<Response> = async () => new Response("starting", { status: 503 });
  let routeB: (r: Request) => Promise<Response> = async () => new Response("starting", { status: 503 });
  let page: (r: Request) => Promise<Response> = async () => new Response("starting", { status: 503 });
  app = await serveFetch({
    "/a/api/cacheback": asNextSeesIt((r) => routeA(r)),
    "/b/api/cacheback": asNextSeesIt((r) => routeB(r)),
    "/a/quote": asNextSeesIt((r) => page(r)),
  });
  urlA = `${app.origin}/a/api/cacheback`;
  urlB = `${app.origin}/b/api/cacheback`;
  const common = { redis: stack.redisClient(), qstash: stack.qstashClient(), signingKeys: KEYS };
  a = new Cacheback({ ...common, refreshUrl: urlA, prefix: randomPrefix("hostile-a") });
  b = new Cacheback({ ...common, refreshUrl: urlB, prefix: randomPrefix("hostile-b") });
  const quote = a.defineJob(
    "quote",
    async (symbol: string) => {
      calls.quote++;
      return { symbol, app: "a" };
    },
    { args: (args) => args.length === 1 && typeof args[0] === "string" && /^[A-Z]{1,10}$/.test(args[0]) },
  );
  const profile = a.defineJob(
    "profile",
    async (id: number) => {
      calls.profile++;
      return { id };
    },
    { args: profileArgs },
  );
  routeA = a.createRefreshHandler({
    jobs: {
      quote,
      profile,
      search: async (...args: unknown[]) => {
        calls.search++;
        return { args };
      },
    },
  });
  routeB = b.createRefreshHandler({
    jobs: {
      quote: async (symbol: string) => {
        calls.b++;
        return { symbol, app: "b", secret: "only for app b" };
      },
    },
  });
  page = async (request) => {
    const symbol = new URL(request.url).searchParams.get("symbol") ?? "ACME";
    const read = await a.fetchWithStatus(["quote", symbol], quote.fetcher, { lifetime: 60 });
    await read.background;
    return Response.json({ status: read.status, value: read.value });
  };

  // What must never change: app A's stale entry (a valid message would refresh it) and app B's entry.
  await a.set(["quote", "ACME"], { symbol: "ACME", app: "a", v: "seed" }, { lifetime: 0 });
  await b.set(["quote", "ACME"], { symbol: "ACME", app: "b", secret: "only for app b" }, { lifetime: 60 });
});

afterAll(async () => {
  await app?.close();
  await stack?.close();
});

// --- requests ---------------------------------------------------------------------------------

interface Sent {
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body chunked, without Content-Length. */
  chunked?: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends one raw HTTP request (any Host header, any method, chunked or not) to the served app. */
function send(req: Sent): Promise<Answer> {
  const target = new URL(req.path ?? "/a/api/cacheback", app.origin);
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    const headers: Record<string, string | number> = { ...req.headers };
    if (body && !req.chunked) headers["content-length"] = body.length;
    const r = httpRequest({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method ?? "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    r.on("error", reject);
    if (body && req.chunked) {
      for (let i = 0; i < body.length; i += 64 * 1024) r.write(body.subarray(i, i + 64 * 1024));
    } else if (body) r.write(body);
    r.end();
  });
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A well-formed refresh message body, with `over` merged in. */
function message(over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    v: 1,
    job: "quote",
    args: ["ACME"],
    lock: `lock-of-the-attacker-${crypto.randomUUID()}`,
    queuedAt: Date.now(),
    options: { lifetime: 60, ttl: 3600, refreshTimeout: 30 },
    ...over,
  });
}

/** A raw body with `args` spliced in as given (for JSON that JSON.stringify would not produce). */
function messageWithRawArgs(rawArgs: string, job = "search"): string {
  return `{"v":1,"job":"${job}","args":${rawArgs},"lock":"l","queuedAt":${Date.now()},"options":{"lifetime":60,"ttl":3600,"refreshTimeout":30}}`;
}

const sign = (body: string | Buffer, over: { key?: string; url?: string; now?: number } = {}) =>
  signQStashMessage({ signingKey: over.key ?? KEYS.current, url: over.url ?? urlA, body: Buffer.isBuffer(body) ? new Uint8Array(body) : body, nowSeconds: over.now });

async function claims(body: string, over: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const now = nowSeconds();
  return { iss: "Upstash", sub: urlA, iat: now, nbf: now, exp: now + 300, jti: "jwt_hostile", body: await qstashBodyHash(body), ...over };
}

/** A JWT with the given claims, header algorithm and key (jose). Claims set to undefined are left out. */
async function jwt(payload: Record<string, unknown>, alg = "HS256", key = KEYS.current): Promise<string> {
  const clean = Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined));
  return new SignJWT(clean).setProtectedHeader({ alg, typ: "JWT" }).sign(new TextEncoder().encode(key));
}

const b64url = (text: string) => bytesToBase64Url(new TextEncoder().encode(text));

/** An unsigned JWT (`alg: none`), optionally with a signature segment copied from elsewhere. */
function unsigned(payload: Record<string, unknown>, alg = "none", signature = ""): string {
  return `${b64url(JSON.stringify({ alg, typ: "JWT" }))}.${b64url(JSON.stringify(payload))}.${signature}`;
}

/** A token whose header claims RS256 but whose signature is an HMAC with the signing key (algorithm confusion). */
async function rs256Confusion(payload: Record<string, unknown>): Promise<string> {
  const input = `${b64url(JSON.stringify({ alg: "RS256", typ: "JWT" }))}.${b64url(JSON.stringify(payload))}`;
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(KEYS.current), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)));
  return `${input}.${bytesToBase64Url(mac)}`;
}

const signed = async (body: string, over: Parameters<typeof sign>[1] = {}): Promise<Sent> => ({
  body,
  headers: { "content-type": "application/json", "upstash-signature": await sign(body, over) },
});
const withSignature = (body: string, signature: string, extra: Record<string, string> = {}): Sent => ({
  body,
  headers: { "content-type": "application/json", "upstash-signature": signature, ...extra },
});

// --- the table --------------------------------------------------------------------------------

interface Case {
  name: string;
  make: () => Promise<Sent> | Sent;
  status: number;
  /** Text the JSON error must contain. */
  says?: string;
}

const TEN_MB = 10 * 1024 * 1024;
const tenMegabytes = () => message({ args: ["ACME"], padding: "x".repeat(TEN_MB) });
const deepArray = (depth: number) => `[${"[".repeat(depth)}${"]".repeat(depth)}]`;

const signatureCases: Case[] = [
  { name: "no Upstash-Signature header", make: () => ({ body: message(), headers: { "content-type": "application/json" } }), status: 401, says: "Missing Upstash-Signature" },
  { name: "an empty signature", make: () => withSignature(message(), ""), status: 401 },
  { name: "a garbage signature", make: () => withSignature(message(), "garbage"), status: 401 },
  { name: "three garbage segments", make: () => withSignature(message(), "a.b.c"), status: 401 },
  { name: "a valid token prefixed with Bearer", make: async () => withSignature(message(), `Bearer ${await sign(message())}`), status: 401 },
  { name: "a valid token in Authorization instead", make: async () => ({ body: message(), headers: { authorization: `Bearer ${await sign(message())}` } }), status: 401 },
  { name: "a token signed with a wrong key", make: () => signed(message(), { key: OTHER_KEY }), status: 401 },
  { name: "a token signed with the current key plus one character", make: () => signed(message(), { key: `${KEYS.current}x` }), status: 401 },
  { name: "a token signed with the key in upper case", make: () => signed(message(), { key: KEYS.current.toUpperCase() }), status: 401 },
  { name: "an expired token", make: () => signed(message(), { now: nowSeconds() - 3600 }), status: 401 },
  { name: "a token expired just past the clock tolerance", make: () => signed(message(), { now: nowSeconds() - 300 - 10 }), status: 401 },
  { name: "a not-yet-valid token", make: () => signed(message(), { now: nowSeconds() + 3600 }), status: 401 },
  { name: "a token valid only past the clock tolerance", make: () => signed(message(), { now: nowSeconds() + 15 }), status: 401 },
  { name: "alg: none", make: async () => withSignature(message(), unsigned(await claims(message()))), status: 401 },
  { name: "alg: None with a signature copied from a valid token", make: async () => withSignature(message(), unsigned(await claims(message()), "None", (await sign(message())).split(".")[2])), status: 401 },
  { name: "HS512 with a wrong key", make: async () => withSignature(message(), await jwt(await claims(message()), "HS512", OTHER_KEY)), status: 401 },
  { name: "HS384 with a wrong key", make: async () => withSignature(message(), await jwt(await claims(message()), "HS384", OTHER_KEY)), status: 401 },
  { name: "RS256 header with an HMAC signature (algorithm confusion)", make: async () => withSignature(message(), await rs256Confusion(await claims(message()))), status: 401 },
  { name: "the right key but another issuer", make: async () => withSignature(message(), await jwt(await claims(message(), { iss: "Evil" }))), status: 401 },
  { name: "the right key but no issuer", make: async () => withSignature(message(), await jwt(await claims(message(), { iss: undefined }))), status: 401 },
  { name: "the right key but no subject", make: async () => withSignature(message(), await jwt(await claims(message(), { sub: undefined }))), status: 401 },
  { name: "the right key but no body claim", make: async () => withSignature(message(), await jwt(await claims(message(), { body: undefined }))), status: 401 },
  { name: "the right key, body claim of the empty body", make: async () => withSignature(message(), await jwt(await claims(message(), { body: await qstashBodyHash("") }))), status: 401 },
  { name: "a signature for another URL", make: () => signed(message(), { url: "https://evil.example/api/cacheback" }), status: 401, says: "invalid subject" },
  { name: "a signature for the URL with a trailing slash", make: () => signed(message(), { url: `${urlA}/` }), status: 401 },
  { name: "a signature for the URL on localhost instead of 127.0.0.1", make: () => signed(message(), { url: urlA.replace("127.0.0.1", "localhost") }), status: 401 },
  { name: "a signature for the URL with a query string", make: () => signed(message(), { url: `${urlA}?job=quote` }), status: 401 },
  { name: "the body tampered by one byte", make: async () => withSignature(message().replace('"ACME"', '"ACMF"'), await sign(message())), status: 401, says: "body hash does not match" },
  { name: "one byte appended to the body", make: async () => withSignature(`${message()}\n`, await sign(message())), status: 401 },
  { name: "the same JSON re-indented", make: async () => withSignature(JSON.stringify(JSON.parse(message()), null, 1), await sign(message())), status: 401 },
  { name: "a replayed valid signature with a different body", make: async () => withSignature(message({ args: ["EVIL"] }), await sign(message())), status: 401 },
  { name: "a replayed valid signature with another job", make: async () => withSignature(message({ job: "search", args: [] }), await sign(message())), status: 401 },
  { name: "a signature with one character changed", make: async () => {
    const token = await sign(message());
    const last = token.at(-2) === "A" ? "B" : "A";
    return withSignature(message(), `${token.slice(0, -2)}${last}${token.at(-1)}`);
  }, status: 401 },
  { name: "a truncated signature", make: async () => withSignature(message(), (await sign(message())).slice(0, -10)), status: 401 },
  { name: "header and payload of one valid token with the signature of another", make: async () => {
    const [h, p] = (await sign(message())).split(".");
    const other = (await sign(message({ args: ["OTHER"] }))).split(".")[2];
    return withSignature(message(), `${h}.${p}.${other}`);
  }, status: 401 },
  { name: "two signatures in one header", make: async () => withSignature(message(), `${await sign(message(), { key: OTHER_KEY })}, ${await sign(message())}`), status: 401 },
];

const methodCases: Case[] = [
  { name: "GET", make: () => ({ method: "GET" }), status: 405 },
  { name: "PUT with a valid signature", make: async () => ({ ...(await signed(message())), method: "PUT" }), status: 405 },
  { name: "DELETE", make: () => ({ method: "DELETE" }), status: 405 },
];

const sizeCases: Case[] = [
  { name: "a 10 MB body without a signature", make: () => ({ body: tenMegabytes(), headers: { "content-type": "application/json" } }), status: 413 },
  { name: "a 10 MB body with a valid signature", make: async () => signed(tenMegabytes()), status: 413 },
  { name: "a 10 MB body sent chunked (no Content-Length)", make: async () => ({ ...(await signed(tenMegabytes())), chunked: true }), status: 413 },
  { name: "a 10 MB body sent chunked with a garbage signature (size is checked first)", make: () => ({ ...withSignature(tenMegabytes(), "garbage"), chunked: true }), status: 413 },
];

const nonRetryable = (name: string, body: () => string, says?: string): Case => ({
  name,
  make: () => signed(body()),
  status: 489,
  ...(says ? { says } : {}),
});

const contentCases: Case[] = [
  nonRetryable("a body that is not JSON", () => "{nope", "not JSON"),
  nonRetryable("an empty body", () => "", "not JSON"),
  nonRetryable("a JSON array", () => "[1,2,3]", "must be a JSON object"),
  nonRetryable("a JSON string", () => '"quote"', "must be a JSON object"),
  nonRetryable("JSON null", () => "null", "must be a JSON object"),
  nonRetryable("an unsupported format version", () => message({ v: 3 }), "unsupported message format version"),
  nonRetryable("a batch (format 2) without refreshes", () => message({ v: 2 }), '"refreshes" must be a list'),
  nonRetryable("a batch whose refreshes are not a list", () => JSON.stringify({ v: 2, refreshes: "all" }), '"refreshes" must be a list'),
  nonRetryable("an empty batch", () => JSON.stringify({ v: 2, refreshes: [] }), '"refreshes" must be a list'),
  nonRetryable("an unknown job", () => message({ job: "drop-tables" }), 'No job named "drop-tables"'),
  nonRetryable('a job named "__proto__"', () => message({ job: "__proto__" }), 'No job named "__proto__"'),
  nonRetryable('a job named "constructor"', () => message({ job: "constructor" }), 'No job named "constructor"'),
  nonRetryable('a job named "toString"', () => message({ job: "toString" }), 'No job named "toString"'),
  nonRetryable("a job name with a newline", () => message({ job: "quote\n" }), "control character"),
  nonRetryable("a job name with CRLF and a header", () => message({ job: "quote\r\nX-Injected: 1" }), "control character"),
  nonRetryable("an empty job name", () => message({ job: "" }), "non-empty job name"),
  nonRetryable("a 10,000-character job name", () => message({ job: "q".repeat(10_000) }), "the limit is 200"),
  nonRetryable("args that are not an array", () => message({ args: "ACME" }), '"args" must be an array'),
  nonRetryable("no args", () => message({ args: undefined }), '"args" must be an array'),
  nonRetryable("too few args for the job (arity)", () => message({ args: [] }), 'Arguments refused for job "quote"'),
  nonRetryable("too many args for the job (arity)", () => message({ args: ["ACME", "EXTRA"] }), 'Arguments refused for job "quote"'),
  nonRetryable("an arg of the wrong type (number)", () => message({ args: [42] }), 'Arguments refused for job "quote"'),
  nonRetryable("an arg of the wrong type (null)", () => message({ args: [null] }), 'Arguments refused for job "quote"'),
  nonRetryable("an arg of the wrong type (object)", () => message({ args: [{ symbol: "ACME" }] }), 'Arguments refused for job "quote"'),
  nonRetryable("an arg with a newline (key with a newline)", () => message({ args: ["AC\nME"] }), 'Arguments refused for job "quote"'),
  nonRetryable("an object key with a newline for a validated job", () => message({ job: "profile", args: [{ "id\nx": 1 }] }), "expected one positive integer id"),
  nonRetryable("a Standard Schema refusing the type", () => message({ job: "profile", args: ["1"] }), "args[0]: expected one positive integer id"),
  nonRetryable("a Standard Schema refusing the arity", () => message({ job: "profile", args: [1, 2] }), "expected one positive integer id"),
  nonRetryable("a __proto__ key in args (validated job)", () => messageWithRawArgs('[{"__proto__":{"polluted":true}}]', "quote"), 'uses the key "__proto__"'),
  nonRetryable("a __proto__ key in args (job without validator)", () => messageWithRawArgs('[{"__proto__":{"polluted":true}}]'), 'uses the key "__proto__"'),
  nonRetryable("a nested __proto__ key in args", () => messageWithRawArgs('[{"a":[{"b":{"__proto__":{"polluted":true}}}]}]'), 'uses the key "__proto__"'),
  nonRetryable("a constructor key in args", () => messageWithRawArgs('[{"constructor":{"prototype":{"polluted":true}}}]'), 'uses the key "constructor"'),
  nonRetryable("a prototype key in args", () => messageWithRawArgs('[{"prototype":{"polluted":true}}]'), 'uses the key "prototype"'),
  nonRetryable("args nested 100,000 levels deep (arrays)", () => messageWithRawArgs(deepArray(100_000)), "nested more than 64 levels deep"),
  nonRetryable("args nested 50,000 levels deep (objects)", () => messageWithRawArgs(`[${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}]`), "nested more than 64 levels deep"),
  nonRetryable("args nested 65 levels deep", () => messageWithRawArgs(deepArray(65)), "nested more than 64 levels deep"),
  nonRetryable("no lock token", () => message({ lock: undefined }), '"lock" must be a non-empty string'),
  nonRetryable("a 1,000-character lock token", () => message({ lock: "l".repeat(1000) }), '"lock" must be a non-empty string'),
  nonRetryable("a negative queuedAt", () => message({ queuedAt: -1 }), '"queuedAt" must be a timestamp'),
  nonRetryable("a queuedAt that is a string", () => message({ queuedAt: "now" }), '"queuedAt" must be a timestamp'),
  nonRetryable("no options", () => message({ options: undefined }), '"options" must be an object'),
  nonRetryable("a negative lifetime", () => message({ options: { lifetime: -1, ttl: 3600, refreshTimeout: 30 } }), '"options.lifetime"'),
  nonRetryable("a ttl below the lifetime", () => message({ options: { lifetime: 7200, ttl: 3600, refreshTimeout: 30 } }), "must be at least lifetime"),
  nonRetryable("a refreshTimeout of 0", () => message({ options: { lifetime: 60, ttl: 3600, refreshTimeout: 0 } }), "refreshTimeout must be a positive"),
  nonRetryable("a huge lifetime", () => message({ options: { lifetime: 1e308, ttl: 3600, refreshTimeout: 30 } }), "must be at least lifetime"),
];

const headerCases: Case[] = [
  { name: "a forged Host with a signature for the forged URL", make: async () => withSignature(message(), await sign(message(), { url: "http://evil.example/a/api/cacheback" }), { host: "evil.example" }), status: 401, says: "invalid subject" },
  { name: "a forged X-Forwarded-Host / -Proto with a signature for the forged URL", make: async () => {
    const forged = "https://evil.example/a/api/cacheback";
    return withSignature(message(), await sign(message(), { url: forged }), { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" });
  }, status: 401 },
  { name: "a Forwarded header with a signature for the forged URL", make: async () => withSignature(message(), await sign(message(), { url: "https://evil.example/a/api/cacheback" }), { forwarded: "host=evil.example;proto=https" }), status: 401 },
];

const crossAppCases: Case[] = [
  { name: "app B's valid message (same keys, B's URL) sent to app A's route", make: () => signed(message(), { url: urlB }), status: 401, says: "invalid subject" },
  { name: "app A's valid message sent to app B's route", make: async () => ({ ...(await signed(message())), path: "/b/api/cacheback" }), status: 401, says: "invalid subject" },
  { name: "a message for B's route signed with another account's key", make: async () => ({ ...(await signed(message(), { url: urlB, key: OTHER_KEY })), path: "/b/api/cacheback" }), status: 401 },
];

const ALL: [string, Case[]][] = [
  ["signature", signatureCases],
  ["method", methodCases],
  ["size", sizeCases],
  ["content", contentCases],
  ["forged header", headerCases],
  ["cross-app", crossAppCases],
];

/** Every key of both apps and its raw value. */
async function snapshot(): Promise<Record<string, string>> {
  const keys = [...(await redis.keys(`${a.prefix}*`)), ...(await redis.keys(`${b.prefix}*`))].sort();
  const out: Record<string, string> = {};
  for (const key of keys) out[key] = JSON.stringify(await redis.get(key));
  return out;
}

describe("hostile or malformed requests to the refresh route", () => {
  it("the table has at least 50 cases", () => {
    expect(ALL.reduce((n, [, cases]) => n + cases.length, 0)).toBeGreaterThanOrEqual(50);
  });

  for (const [group, cases] of ALL) {
    describe(group, () => {
      it.each(cases.map((c) => [c.name, c] as const))("%s: rejected, nothing runs, nothing written", async (_name, c) => {
        const before = await snapshot();
        const callsBefore = totalCalls();
        const answer = await send(await c.make());
        expect(answer.status, answer.body.slice(0, 300)).toBe(c.status);
        if (c.status !== 405) {
          const json = JSON.parse(answer.body) as { ok: boolean; error: string };
          expect(json.ok).toBe(false);
          expect(json.error.length).toBeGreaterThan(10);
          if (c.says) expect(json.error).toContain(c.says);
        }
        if (c.status === 489) expect(answer.headers["upstash-nonretryable-error"]).toBe("true");
        expect(totalCalls()).toBe(callsBefore);
        expect(await snapshot()).toEqual(before);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
        expect(Object.prototype.toString.call([])).toBe("[object Array]");
      });
    });
  }
});

describe("what a hostile request cannot change", () => {
  it("control: a valid message runs the job once and writes app A's entry only (so the table above can see a run)", async () => {
    const beforeB = JSON.stringify(await redis.get(b.key(["quote", "ACME"])));
    const answer = await send(await signed(message({ args: ["CTRL"] })));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ ok: true, status: "written", key: a.key(["quote", "CTRL"]) });
    expect(answer.body).not.toContain("only for app b");
    expect(calls.quote).toBe(1);
    expect(await a.peek(["quote", "CTRL"])).toMatchObject({ status: "hit", value: { symbol: "CTRL", app: "a" } });
    expect(JSON.stringify(await redis.get(b.key(["quote", "ACME"])))).toBe(beforeB);
  });

  it("a forged Host / X-Forwarded-Host does not change the URL the signature is checked against: a signature for the configured URL still verifies", async () => {
    const body = message({ args: ["HOSTOK"] });
    const answer = await send(withSignature(body, await sign(body), { host: "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" }));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ ok: true, status: "written", key: a.key(["quote", "HOSTOK"]) });
  });

  it("a page request with a forged Host / X-Forwarded-Host publishes the refresh to the configured URL", async () => {
    await a.set(["quote", "PAGE"], { symbol: "PAGE", app: "a", v: "seed" }, { lifetime: 0 });
    const answer = await send({ path: "/a/quote?symbol=PAGE", method: "GET", headers: { host: "evil.example", "x-forwarded-host": "attacker.example", "x-forwarded-proto": "https" } });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ status: "stale" });
    const messages = stack.messagesAbout('"args":["PAGE"]');
    expect(messages.map((m) => m.url)).toEqual([urlA]);
    await eventually("the refresh delivered to the configured URL", async () => (await a.peek(["quote", "PAGE"])).status === "hit");
    expect(stack.app.answers).toHaveLength(0); // nothing went to the stack's default route either
  });

  it("in production with QStash and no refresh URL configured, nothing is guessed from a request: publishing fails with a clear error and the route answers 500", async () => {
    const prod = new Cacheback({
      redis: stack.redisClient(),
      queue: new QStashQueue(stack.qstashClient()),
      signingKeys: KEYS,
      prefix: randomPrefix("hostile-prod"),
      production: true,
    });
    const events = recordEvents(prod);
    await prod.set(["quote", "PROD"], "old", { lifetime: 0 });
    const read = await prod.fetchWithStatus(["quote", "PROD"], async () => "new", { lifetime: 60 });
    expect(read).toMatchObject({ status: "stale", value: "old" });
    await read.background;
    const error = (errorsOf(events, "publish")[0] as { error: unknown }).error;
    expect(error).toBeInstanceOf(CachebackConfigError);
    expect(String(error)).toContain("CACHEBACK_REFRESH_URL");
    expect(String(error)).toContain("never taken from a request's Host header");
    expect(stack.messagesAbout('"args":["PROD"]')).toHaveLength(0);

    const route = prod.createRefreshHandler({ jobs: { quote: async () => "ran" } });
    const body = message({ args: ["PROD"] });
    const res = await route(
      new Request("https://evil.example/api/cacheback", { method: "POST", body, headers: { host: "evil.example", "upstash-signature": await sign(body, { url: "https://evil.example/api/cacheback" }) } }),
    );
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: string }).error).toContain("CACHEBACK_REFRESH_URL");
  });

  it("app A's route with weird but valid args only ever touches app A's prefix", async () => {
    const beforeB = await redis.keys(`${b.prefix}*`);
    const bEntry = JSON.stringify(await redis.get(b.key(["quote", "ACME"])));
    for (const args of [[b.key(["quote", "ACME"])], [`../${b.prefix}entry:quote`], ["*"], [{ key: `${b.prefix}entry:quote:["ACME"]` }]]) {
      const answer = await send(await signed(message({ job: "search", args })));
      expect(answer.status).toBe(200);
      expect((JSON.parse(answer.body) as { key: string }).key.startsWith(`${a.prefix}entry:search:`)).toBe(true);
    }
    expect(await redis.keys(`${b.prefix}*`)).toEqual(beforeB);
    expect(JSON.stringify(await redis.get(b.key(["quote", "ACME"])))).toBe(bEntry);
    expect(calls.b).toBe(0);
  });
});
