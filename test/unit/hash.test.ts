import { afterEach, describe, expect, it, vi } from "vitest";

const ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const UNICODE = "héllo ✓ 🚀";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe("SHA-256 of long key arguments", () => {
  it("in Node.js, from Node's own crypto, synchronously", async () => {
    const { hashHex } = await import("../../src/hash.js");
    expect(hashHex("abc")).toBe(ABC);
  });

  it("without process.getBuiltinModule (another runtime, an older Node.js), from @noble/hashes, with the same digests", async () => {
    const { hashHex: nodeHash } = await import("../../src/hash.js");
    const fromNode = nodeHash(UNICODE);
    vi.resetModules();
    vi.stubGlobal("process", { ...process, getBuiltinModule: undefined });
    const { hashHex, hashReady } = await import("../../src/hash.js");
    await hashReady();
    expect(hashHex("abc")).toBe(ABC);
    expect(hashHex(UNICODE)).toBe(fromNode);
  });
});
