import { createCacheHandler } from "../../src/cache-handler/handler.js";
import type { CacheEntry, CacheHandlerEvent, CacheHandlerOptions } from "../../src/cache-handler/types.js";
import { MemoryStore } from "../../src/stores/memory.js";

export const T0 = 1_700_000_000_000;
/** Bytes that are not valid UTF-8. */
export const BINARY = [0xff, 0xfe, 0x00, 0x80];

/** An entry as Next.js hands it to `set`; `chunks` become the stream's chunks. */
export function entryOf(chunks: number[][] | number[], meta: Partial<Omit<CacheEntry, "value">> & { timestamp: number }): CacheEntry {
  const list = (Array.isArray(chunks[0]) ? chunks : [chunks]) as number[][];
  return {
    value: new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of list) controller.enqueue(new Uint8Array(chunk));
        controller.close();
      },
    }),
    tags: [],
    stale: 30,
    revalidate: 60,
    expire: 3600,
    ...meta,
  };
}

/** The bytes of a returned entry's stream. */
export async function bytesOf(entry: CacheEntry | undefined): Promise<number[]> {
  if (!entry) throw new Error("no entry");
  const out: number[] = [];
  const reader = entry.value.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push(...value);
  }
}

/** What Next.js does with a returned entry at `now` (use-cache-wrapper.js): serve, regenerate after, or miss. */
export function nextSees(entry: CacheEntry | undefined, now: number): "miss" | "serve" | "serve-and-regenerate" {
  if (!entry || now > entry.timestamp + entry.expire * 1000) return "miss";
  return now > entry.timestamp + entry.revalidate * 1000 ? "serve-and-regenerate" : "serve";
}

/**
 * A handler on the memory store with a controlled clock (shared by the handler, its memory store and the
 * locks), recording its events. `store` shares a next-cacheback instance's store.
 */
export function handlerHarness(options: Partial<CacheHandlerOptions> & { clock?: { now: number } } = {}) {
  const clock = options.clock ?? { now: T0 };
  const now = () => clock.now;
  const store = options.store ?? new MemoryStore({ now });
  const events: CacheHandlerEvent[] = [];
  const handler = createCacheHandler({ prefix: "h:", now, onEvent: (e) => events.push(e), ...options, store });
  return {
    handler,
    store,
    clock,
    events,
    advance(seconds: number) {
      clock.now += seconds * 1000;
    },
    /** Sets an entry written now (`timestamp` = the clock). */
    put(key: string, meta: Partial<Omit<CacheEntry, "value">> = {}, bytes: number[] = BINARY) {
      return handler.set(key, Promise.resolve(entryOf(bytes, { timestamp: clock.now, ...meta })));
    },
    last<K extends CacheHandlerEvent["type"]>(type: K): Extract<CacheHandlerEvent, { type: K }> | undefined {
      return events.filter((e) => e.type === type).at(-1) as Extract<CacheHandlerEvent, { type: K }> | undefined;
    },
  };
}
