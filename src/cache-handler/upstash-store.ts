import type { Redis } from "@upstash/redis";
import type { ClockRequest } from "../stores/types.js";
import { decodeEntry, encodeEntryBody } from "./format.js";
import type { ReadState } from "./judge.js";
import { READ_ENTRY, STAMP_EACH, WRITE_ENTRY } from "./scripts.js";
import type { HandlerStore, ReadRequest, ReadResult, StampRequest, WriteRequest, WriteResult } from "./store.js";

/** A positive whole number of milliseconds, as Redis's `PX` wants it. */
const ms = (value: number): string => String(Math.max(1, Math.ceil(value)));

const STATES = new Set<string>(["absent", "unreadable", "evicted", "expired", "tag-expired", "fresh", "stale"]);

/**
 * A text of the read script's answer. The script writes texts as JSON: a client that decodes JSON answers
 * (`@upstash/redis`'s default) hands them over decoded; one that does not, quoted.
 */
function textOf(value: unknown): unknown {
  if (typeof value !== "string" || !value.startsWith('"')) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** A tag the read script returned ('#' + tag, so that no tag could be taken for a quoted text). */
const tagOf = (value: unknown): string | undefined => {
  const text = textOf(value);
  return typeof text === "string" && text.startsWith("#") ? text.slice(1) : undefined;
};

/**
 * The production handler store: Upstash Redis through the official `@upstash/redis` client. `read`,
 * `write` and `stamp` are one script each (EVALSHA; EVAL once, the first time a server sees it).
 */
export class UpstashHandlerStore implements HandlerStore {
  readonly name = "upstash";
  readonly #read;
  readonly #write;
  readonly #stamp;

  constructor(redis: Redis) {
    this.#read = redis.createScript<unknown[]>(READ_ENTRY);
    this.#write = redis.createScript<unknown[]>(WRITE_ENTRY);
    this.#stamp = redis.createScript<unknown>(STAMP_EACH);
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    const { keys, clock, tagPrefix, softTags, nowMs, minExpireS, lock } = request;
    const reply = await this.#read.exec(
      [keys.entry, keys.lock, clock.key, ...softTags.map((tag) => tagPrefix + tag)],
      [tagPrefix, String(nowMs), lock.token, ms(lock.ttlMs), String(minExpireS)],
    );
    const [rawState, locked, version, rawText, tag] = reply;
    const state = textOf(rawState);
    const text = textOf(rawText);
    if (typeof state !== "string" || !STATES.has(state)) throw new Error(`unexpected reply from the read script: ${JSON.stringify(reply).slice(0, 200)}`);
    const result: ReadResult = { state: state as ReadState, entry: null, locked: Number(locked) === 1, version: Number(version) || 0, tag: tagOf(tag) };
    if (state === "fresh" || state === "stale") {
      result.entry = decodeEntry(text);
      if (!result.entry) return { state: "unreadable", entry: null, locked: false, version: result.version };
    }
    return result;
  }

  async write(request: WriteRequest): Promise<WriteResult> {
    const { keys, clock, entry, version, capVersion, ttlMs, lockToken, evict } = request;
    const body = evict ? "" : encodeEntryBody(entry, entry.tags, entry.value);
    const [written, taken] = await this.#write.exec(
      [keys.entry, keys.lock, clock.key],
      [body, version === undefined ? "" : String(Math.trunc(version)), String(Math.trunc(capVersion)), ms(ttlMs), lockToken ?? "", evict ? "1" : "0"],
    );
    return { written: Number(written) === 1, version: Number(taken) };
  }

  async stamp(clock: ClockRequest, stamps: readonly StampRequest[], ttlMs: number): Promise<number> {
    const args = [String(Math.trunc(clock.floor)), ms(clock.ttlMs), ms(ttlMs)];
    for (const { change } of stamps) {
      args.push(change.kind, change.kind === "stale" && change.expireAt !== undefined ? String(Math.trunc(change.expireAt)) : "0");
    }
    return Number(await this.#stamp.exec([clock.key, ...stamps.map((s) => s.key)], args));
  }
}
