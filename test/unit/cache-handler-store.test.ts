import { describe, expect, it } from "vitest";
import { decodeEntry, encodeEntry, encodeEntryBody, fromBase64, toBase64 } from "../../src/cache-handler/format.js";
import { handlerKeys, storedTag } from "../../src/cache-handler/keys.js";
import { MemoryHandlerStore } from "../../src/cache-handler/memory-store.js";
import { RememberedVersions } from "../../src/cache-handler/versions.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { runHandlerStoreSuite } from "../helpers/handler-store-suite.js";

runHandlerStoreSuite("MemoryHandlerStore", () => {
  let now = 1_700_000_000_000;
  const clock = () => now;
  return {
    store: new MemoryHandlerStore(new MemoryStore({ now: clock }), clock),
    prefix: "t:",
    advance: async (ms) => {
      now += ms;
    },
  };
});

describe("the stored format", () => {
  const entry = { version: 1_700_000_000_000_123, timestamp: 1_700_000_000_000.25, revalidate: 900, expire: 0xfffffffe, stale: 300 };

  it("round-trips any bytes, tags one per line, and the metadata", () => {
    const value = new Uint8Array(256).map((_, i) => 255 - i);
    const text = encodeEntry({ ...entry, tags: ["posts", "caf%C3%A9"], value });
    expect(text.startsWith(`cbh1 1700000000000123\n{"timestamp":1700000000000.25,"revalidate":900,"expire":4294967294,"stale":300}\nposts\ncaf%C3%A9\n\n`)).toBe(true);
    expect(/^[\x20-\x7e\t\n]*$/.test(text)).toBe(true); // plain text: it travels in JSON as is
    const decoded = decodeEntry(text)!;
    expect({ ...decoded, value: [...decoded.value] }).toEqual({ ...entry, tags: ["posts", "caf%C3%A9"], value: [...value] });
  });

  it("an entry without tags has an empty line after the metadata; a write sends all but the first line", () => {
    const body = encodeEntryBody(entry, [], new Uint8Array([0xff, 0xfe, 0x00, 0x80]));
    expect(body).toBe(`\n{"timestamp":1700000000000.25,"revalidate":900,"expire":4294967294,"stale":300}\n\n//4AgA==`);
    expect(decodeEntry(`cbh1 7${body}`)).toMatchObject({ version: 7, tags: [] });
  });

  it("durations that are not finite are stored as Next.js's forever; text that is not an entry decodes to null", () => {
    const text = encodeEntry({ ...entry, revalidate: Infinity, expire: Infinity, tags: [], value: new Uint8Array(1) });
    expect(decodeEntry(text)).toMatchObject({ revalidate: 0xfffffffe, expire: 0xfffffffe });
    for (const junk of [null, 42, "", "cbh1 x\n{}", '{"writtenAt":1}', "cbh1 1\n{\"timestamp\":1}\nno-end"]) expect(decodeEntry(junk)).toBeNull();
  });

  it("base64 works without Node's Buffer too", () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
    const viaBuffer = toBase64(bytes);
    const buffer = globalThis.Buffer;
    let without: { text: string; back: number[] };
    try {
      (globalThis as { Buffer?: unknown }).Buffer = undefined;
      const text = toBase64(bytes);
      without = { text, back: [...fromBase64(text)] };
    } finally {
      globalThis.Buffer = buffer;
    }
    expect(without.text).toBe(viaBuffer);
    expect(without.back).toEqual([...bytes]);
    expect([...fromBase64(viaBuffer)]).toEqual([...bytes]);
  });
});

describe("handler keys and tags", () => {
  it("short printable cache keys are kept; others are hashed; tags keep one line each", () => {
    expect(handlerKeys("p:", "build/fn/[1]")).toEqual({ entry: "p:hentry:build/fn/[1]", lock: "p:hlock:build/fn/[1]" });
    expect(handlerKeys("p:", "x".repeat(201)).entry).toMatch(/^p:hentry:#[0-9a-f]{64}$/);
    expect(handlerKeys("p:", "café").entry).toMatch(/^p:hentry:#[0-9a-f]{64}$/);
    expect(storedTag("caf%C3%A9")).toBe("caf%C3%A9");
    expect(storedTag("café")).toBe("caf%C3%A9");
    expect(storedTag("a\nb")).toBe("a%0Ab");
    expect(storedTag("tab\tok")).toBe("tab\tok");
    expect(storedTag("lone\ud800")).toBe("lone%EF%BF%BD");
  });
});

describe("remembered versions", () => {
  it("keeps the older version within the window, the newest token, forgets after the window, and stays bounded", () => {
    const r = new RememberedVersions(1000, 3);
    r.remember("k", 10, undefined, 0);
    r.remember("k", 20, "tok", 500);
    expect(r.take("k", 600)).toEqual({ version: 10, token: "tok" });
    expect(r.take("k", 600)).toEqual({ version: undefined, token: undefined });
    r.remember("k", 10, undefined, 0);
    r.remember("k", 20, undefined, 1500); // the first is past the window: replaced
    expect(r.take("k", 1600)).toEqual({ version: 20, token: undefined });
    r.remember("late", undefined, "tok2", 0); // a read answered after its timeout: its token only
    expect(r.take("late", 10)).toEqual({ version: undefined, token: "tok2" });
    for (let i = 0; i < 10; i++) r.remember(`k${i}`, i, undefined, 2000 + i);
    expect(r.size).toBeLessThanOrEqual(3);
  });
});
