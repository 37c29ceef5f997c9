import { describe, expect, it } from "vitest";
import { CliUsageError } from "../../packages/dev/src/cli-options.js";
import { describeError, DevServerError, DevServerOptionsError, HttpError, PortInUseError, RedisUnreachableError } from "../../packages/dev/src/errors.js";
import { bearerToken, tokenMatches } from "../../packages/dev/src/http.js";
import { CommandRefusedError } from "../../packages/dev/src/redis-rest/policy.js";
import * as devPackage from "../../packages/dev/src/index.js";

describe("the dev package's errors", () => {
  it("all extend DevServerError and carry their own name", () => {
    const errors: Error[] = [
      new PortInUseError("127.0.0.1", 8080),
      new DevServerOptionsError("bad option"),
      new RedisUnreachableError("down"),
      new HttpError(413, "too large"),
      new CommandRefusedError("ERR refused"),
      new CliUsageError("bad flag"),
    ];
    for (const error of errors) {
      expect(error, error.name).toBeInstanceOf(DevServerError);
      expect(error.name).toBe(error.constructor.name);
    }
    expect(new HttpError(405, "no", { allow: "GET" })).toMatchObject({ status: 405, headers: { allow: "GET" }, message: "no" });
  });

  it("the public entry exports the error classes a caller can catch", () => {
    expect(devPackage.DevServerError).toBe(DevServerError);
    expect(devPackage.PortInUseError).toBe(PortInUseError);
    expect(devPackage.DevServerOptionsError).toBe(DevServerOptionsError);
    expect(devPackage.RedisUnreachableError).toBe(RedisUnreachableError);
  });
});

describe("describeError", () => {
  it("gives the message of an Error, the messages of an AggregateError without one, else the code or name", () => {
    expect(describeError(new Error("boom"))).toBe("boom");
    expect(describeError(new AggregateError([new Error("connect ECONNREFUSED ::1:6379"), new Error("connect ECONNREFUSED 127.0.0.1:6379")]))).toBe(
      "connect ECONNREFUSED ::1:6379; connect ECONNREFUSED 127.0.0.1:6379",
    );
    expect(describeError(Object.assign(new Error(""), { code: "ECONNRESET" }))).toBe("ECONNRESET");
    expect(describeError(new TypeError(""))).toBe("TypeError");
    expect(describeError("plain text")).toBe("plain text");
    expect(describeError(42)).toBe("42");
    expect(describeError(undefined)).toBe("undefined");
  });
});

describe("the bearer token check", () => {
  it("reads Authorization: Bearer <token>, whatever the case of the scheme and the spacing", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer   abc ")).toBe("abc");
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken("   ")).toBeUndefined();
    expect(bearerToken("Basic abc")).toBeNull();
    expect(bearerToken("Bearer")).toBeNull();
    expect(bearerToken("abc")).toBeNull();
  });

  it("matches only the exact token, whatever the lengths", () => {
    expect(tokenMatches("secret-token", "secret-token")).toBe(true);
    for (const given of ["", "secret-toke", "secret-tokenn", "SECRET-TOKEN", "secret-tokeN", "x".repeat(10_000)]) {
      expect(tokenMatches(given, "secret-token"), given.slice(0, 20)).toBe(false);
    }
    expect(tokenMatches("wörld 😀", "wörld 😀")).toBe(true);
  });
});
