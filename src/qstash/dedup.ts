/** Deduplication: which message ids were published within the window, by explicit id or by content. */
import { bytesToHex, sha256 } from "./encoding.js";
import type { PublishInput } from "./publish-input.js";

/** The ids of recent publishes, each remembered for the window's length. */
export class DedupWindow {
  readonly #windowMs: number;
  readonly #seen = new Map<string, { messageId: string; expiresAt: number }>();

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /**
   * The key a publish is deduplicated by: its `deduplicationId`, else (with `contentBasedDeduplication`) a
   * hash of the destination, the headers and the body; `undefined` when it is not deduplicated.
   */
  async keyOf(input: PublishInput, url: string, headers: Record<string, string>, bytes: Uint8Array<ArrayBuffer>): Promise<string | undefined> {
    if (input.deduplicationId) return `id:${input.deduplicationId}`;
    if (input.contentBasedDeduplication) return `content:${await contentHash(url, headers, bytes)}`;
    return undefined;
  }

  /** The message published under `key` within the window, if any (forgetting expired keys first). */
  find(key: string, nowMs: number): string | undefined {
    for (const [seen, value] of this.#seen) {
      if (value.expiresAt <= nowMs) this.#seen.delete(seen);
    }
    return this.#seen.get(key)?.messageId;
  }

  /** Remembers that `messageId` was published under `key`, for the window's length from `nowMs`. */
  remember(key: string, messageId: string, nowMs: number): void {
    this.#seen.set(key, { messageId, expiresAt: nowMs + this.#windowMs });
  }
}

async function contentHash(url: string, headers: Record<string, string>, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const headerLines = Object.entries(headers)
    .map(([name, value]) => `${name.toLowerCase()}:${value}`)
    .sort()
    .join("\n");
  const prefix = new TextEncoder().encode(`${url}\n${headerLines}\n\n`);
  const all = new Uint8Array(prefix.length + bytes.length);
  all.set(prefix, 0);
  all.set(bytes, prefix.length);
  return bytesToHex(await sha256(all));
}
