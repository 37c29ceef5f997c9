import { describe, expect, it } from "vitest";
import { parseDurationSeconds } from "../../packages/dev/src/qstash-server/duration.js";
import { MAX_RETRY_DELAY_SECONDS, nextRetryDelayMs, parseRetryAfterMs, retryDelayMs } from "../../src/qstash/retry.js";

describe("retryDelayMs", () => {
  it("follows min(86400, e^(2.5 n)) seconds for the n-th retry", () => {
    expect(retryDelayMs(1)).toBeCloseTo(Math.exp(2.5) * 1000, 6);
    expect(Math.round(retryDelayMs(1) / 1000)).toBe(12);
    expect(Math.round(retryDelayMs(2) / 1000)).toBe(148);
    expect(Math.round(retryDelayMs(3) / 1000)).toBe(1808);
    expect(Math.round(retryDelayMs(4) / 1000)).toBe(22026);
    expect(retryDelayMs(5)).toBe(MAX_RETRY_DELAY_SECONDS * 1000);
    expect(retryDelayMs(50)).toBe(86_400_000);
  });

  it("is multiplied by the scale", () => {
    expect(retryDelayMs(1, 0.001)).toBeCloseTo(Math.exp(2.5), 6);
    expect(retryDelayMs(5, 0.5)).toBe(43_200_000);
    expect(retryDelayMs(3, 0)).toBe(0);
  });

  it("treats anything below the first retry as the first retry", () => {
    expect(retryDelayMs(0)).toBe(retryDelayMs(1));
    expect(retryDelayMs(-3)).toBe(retryDelayMs(1));
  });
});

describe("parseRetryAfterMs", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");

  it("reads delay seconds", () => {
    expect(parseRetryAfterMs("120", now)).toBe(120_000);
    expect(parseRetryAfterMs(" 0 ", now)).toBe(0);
    expect(parseRetryAfterMs("1.5", now)).toBe(1500);
  });

  it("reads an HTTP date relative to now, never negative", () => {
    expect(parseRetryAfterMs("Wed, 01 Jan 2025 00:01:00 GMT", now)).toBe(60_000);
    expect(parseRetryAfterMs("Tue, 31 Dec 2024 23:00:00 GMT", now)).toBe(0);
  });

  it("caps at a day and ignores what it cannot read", () => {
    expect(parseRetryAfterMs("999999", now)).toBe(86_400_000);
    expect(parseRetryAfterMs("soon", now)).toBeUndefined();
    expect(parseRetryAfterMs("", now)).toBeUndefined();
    expect(parseRetryAfterMs("-5", now)).toBeUndefined();
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
  });
});

describe("nextRetryDelayMs", () => {
  it("uses Retry-After when present, scaled, and the back-off otherwise", () => {
    expect(nextRetryDelayMs(1, { retryAfter: "30", scale: 0.01 })).toBe(300);
    expect(nextRetryDelayMs(2, { retryAfter: null, scale: 0.01 })).toBeCloseTo(retryDelayMs(2, 0.01), 9);
    expect(nextRetryDelayMs(1, { retryAfter: "garbage" })).toBe(retryDelayMs(1));
    expect(nextRetryDelayMs(3)).toBe(retryDelayMs(3));
  });
});

describe("parseDurationSeconds", () => {
  it("reads QStash durations", () => {
    expect(parseDurationSeconds("10s")).toBe(10);
    expect(parseDurationSeconds("5m")).toBe(300);
    expect(parseDurationSeconds("2h")).toBe(7200);
    expect(parseDurationSeconds("1d")).toBe(86_400);
    expect(parseDurationSeconds("1h30m")).toBe(5400);
    expect(parseDurationSeconds("45")).toBe(45);
  });

  it("rejects malformed durations", () => {
    for (const bad of ["", "s", "10x", "-5s", "ten seconds", "10 s", "1w"]) {
      expect(parseDurationSeconds(bad)).toBeUndefined();
    }
  });
});
