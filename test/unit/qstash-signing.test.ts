import { createHash } from "node:crypto";
import { Receiver, SignatureError } from "@upstash/qstash";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY } from "../../src/qstash/dev-credentials.js";
import { qstashBodyHash, signQStashMessage } from "../../src/qstash/signing.js";

const receiver = new Receiver({
  currentSigningKey: QSTASH_DEV_CURRENT_SIGNING_KEY,
  nextSigningKey: QSTASH_DEV_NEXT_SIGNING_KEY,
});
const url = "https://example.com/api/cacheback?x=1";

describe("signQStashMessage", () => {
  it("round-trips through the official Receiver", async () => {
    const body = JSON.stringify({ job: "posts", args: [1] });
    const signature = await signQStashMessage({ signingKey: QSTASH_DEV_CURRENT_SIGNING_KEY, url, body });
    expect(await receiver.verify({ signature, body, url })).toBe(true);
    expect(await receiver.verify({ signature, body })).toBe(true);
  });

  it("verifies when signed with the next key (key rotation)", async () => {
    const signature = await signQStashMessage({ signingKey: QSTASH_DEV_NEXT_SIGNING_KEY, url, body: "x" });
    expect(await receiver.verify({ signature, body: "x", url })).toBe(true);
  });

  it("carries QStash's header and claims", async () => {
    const signature = await signQStashMessage({
      signingKey: QSTASH_DEV_CURRENT_SIGNING_KEY,
      url,
      body: "hello",
      nowSeconds: 1_700_000_000,
    });
    expect(decodeProtectedHeader(signature)).toEqual({ alg: "HS256", typ: "JWT" });
    const claims = decodeJwt(signature);
    expect(claims).toMatchObject({ iss: "Upstash", sub: url, iat: 1_700_000_000, nbf: 1_700_000_000, exp: 1_700_000_300 });
    expect(claims.jti).toMatch(/^jwt_[0-9A-Za-z]+$/);
    const expected = createHash("sha256").update("hello").digest("base64url");
    expect(claims.body).toBe(`${expected}=`);
  });

  it("gives each signature its own jti", async () => {
    const input = { signingKey: QSTASH_DEV_CURRENT_SIGNING_KEY, url, body: "same", nowSeconds: 1_700_000_000 };
    const a = decodeJwt(await signQStashMessage(input));
    const b = decodeJwt(await signQStashMessage(input));
    expect(a.jti).not.toBe(b.jti);
  });

  it("hashes bytes and the equal string alike", async () => {
    const text = "café ☕";
    expect(await qstashBodyHash(new TextEncoder().encode(text))).toBe(await qstashBodyHash(text));
    expect(await qstashBodyHash("")).toBe(`${createHash("sha256").update("").digest("base64url")}=`);
  });

  it("is rejected for a tampered body, another url, other keys and an expired time", async () => {
    const signature = await signQStashMessage({ signingKey: QSTASH_DEV_CURRENT_SIGNING_KEY, url, body: "original" });
    await expect(receiver.verify({ signature, body: "tampered", url })).rejects.toBeInstanceOf(SignatureError);
    await expect(receiver.verify({ signature, body: "original", url: `${url}&y=2` })).rejects.toBeInstanceOf(
      SignatureError,
    );
    const strangers = new Receiver({ currentSigningKey: "sig_other1", nextSigningKey: "sig_other2" });
    await expect(strangers.verify({ signature, body: "original", url })).rejects.toBeInstanceOf(SignatureError);

    const expired = await signQStashMessage({
      signingKey: QSTASH_DEV_CURRENT_SIGNING_KEY,
      url,
      body: "original",
      nowSeconds: Math.floor(Date.now() / 1000) - 301,
    });
    await expect(receiver.verify({ signature: expired, body: "original", url })).rejects.toBeInstanceOf(SignatureError);
    expect(await receiver.verify({ signature: expired, body: "original", url, clockTolerance: 60 })).toBe(true);

    const future = await signQStashMessage({
      signingKey: QSTASH_DEV_CURRENT_SIGNING_KEY,
      url,
      body: "original",
      nowSeconds: Math.floor(Date.now() / 1000) + 120,
    });
    await expect(receiver.verify({ signature: future, body: "original", url })).rejects.toBeInstanceOf(SignatureError);
  });

  it("refuses an empty signing key", async () => {
    await expect(signQStashMessage({ signingKey: "", url, body: "x" })).rejects.toThrow(/signingKey/);
  });
});
