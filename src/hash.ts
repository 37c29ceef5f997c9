/**
 * SHA-256 of text, as hex, synchronously (a cache key of long arguments is a hash of them, and
 * `cacheback.key()` is synchronous). Node.js hands its own implementation over without an import
 * (`process.getBuiltinModule`, Node.js 20.16 and later); elsewhere (another runtime, an older Node.js)
 * `@noble/hashes` is loaded once, at start-up, and {@link hashReady} says when it is there.
 */
type Sha256Hex = (text: string) => string;

interface NodeCrypto {
  createHash(algorithm: "sha256"): { update(text: string, encoding: "utf8"): { digest(encoding: "hex"): string } };
}

function fromNode(): Sha256Hex | undefined {
  try {
    const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
    const crypto = get?.("node:crypto") as NodeCrypto | undefined;
    if (typeof crypto?.createHash !== "function") return undefined;
    return (text) => crypto.createHash("sha256").update(text, "utf8").digest("hex");
  } catch {
    return undefined;
  }
}

let sha256Hex: Sha256Hex | undefined = fromNode();
const ready: Promise<void> = sha256Hex
  ? Promise.resolve()
  : Promise.all([import("@noble/hashes/sha2.js"), import("@noble/hashes/utils.js")]).then(([{ sha256 }, { bytesToHex, utf8ToBytes }]) => {
      sha256Hex = (text) => bytesToHex(sha256(utf8ToBytes(text)));
    });

/** Settles once {@link hashHex} works (at once in Node.js). */
export function hashReady(): Promise<void> {
  return ready;
}

/** Thrown by {@link hashHex} in the moment before {@link hashReady} settles, outside Node.js. */
export class HashNotReadyError extends Error {
  override name = "HashNotReadyError";
  constructor() {
    super("SHA-256 is not loaded yet: await hashReady() first");
  }
}

/** The SHA-256 of `text` (UTF-8) as 64 hex digits. */
export function hashHex(text: string): string {
  if (!sha256Hex) throw new HashNotReadyError();
  return sha256Hex(text);
}
