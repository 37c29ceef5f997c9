import { CachebackOptionsError } from "../errors.js";

/** Longest tag accepted, in characters before encoding (Next.js's limit). */
export const MAX_TAG_LENGTH = 256;
/** Most tags one entry carries, all layers combined. */
export const MAX_TAGS_PER_ENTRY = 64;

/**
 * The tags of an entry: a list, or a function of the job's arguments that returns one, e.g.
 * `tags: (id) => ["posts", "post:" + id]`.
 */
export type TagsOption<A extends readonly unknown[] = readonly unknown[]> = readonly string[] | ((...args: A) => readonly string[]);

const OUT_OF_CLASS = /[^\t\x20-\x7e]/;
const OUT_OF_CLASS_RUN = /[^\t\x20-\x7e]+/g;

/**
 * A tag in the form Next.js hands to cache handlers: every character outside tab and printable ASCII
 * percent-encoded (`café` → `caf%C3%A9`), so both caches name a tag the same way. Idempotent.
 * @throws CachebackOptionsError for a tag that is not non-empty text of at most 256 characters.
 */
export function encodeTag(tag: unknown): string {
  if (typeof tag !== "string" || tag.length === 0) {
    throw new CachebackOptionsError(`A tag must be a non-empty string, got ${JSON.stringify(tag) ?? String(tag)}`);
  }
  if (tag.length > MAX_TAG_LENGTH) {
    throw new CachebackOptionsError(`The tag "${tag.slice(0, 40)}..." is ${tag.length} characters long; a tag has at most ${MAX_TAG_LENGTH}`);
  }
  if (!OUT_OF_CLASS.test(tag)) return tag;
  try {
    return tag.replace(OUT_OF_CLASS_RUN, (run) => encodeURIComponent(run));
  } catch {
    throw new CachebackOptionsError(`The tag ${JSON.stringify(tag)} is not well-formed text (an unpaired surrogate); use plain text`);
  }
}

/** Longest encoded tag: 256 characters of three UTF-8 bytes each, every byte written as `%XX`. */
const MAX_ENCODED_LENGTH = MAX_TAG_LENGTH * 9;

/** Whether `value` is a tag as {@link encodeTag} writes it (what a message or a handler may carry). */
export function isEncodedTag(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_ENCODED_LENGTH && !OUT_OF_CLASS.test(value);
}

/** Encodes a list of tags, dropping repeats; `what` names the caller in errors. */
export function encodeTags(tags: unknown, what: string): string[] {
  const list = typeof tags === "string" ? [tags] : tags;
  if (!Array.isArray(list)) throw new CachebackOptionsError(`${what} takes a tag or a list of tags, got ${typeof tags}`);
  const out: string[] = [];
  for (const tag of list) {
    const encoded = encodeTag(tag);
    if (!out.includes(encoded)) out.push(encoded);
  }
  return out;
}

/**
 * The tags of one entry: the layers (instance defaults, then the job's or the call's) evaluated for the
 * arguments, encoded, without repeats, checked against the per-entry limit.
 * @throws CachebackOptionsError naming the tag and the rule it breaks.
 */
export function entryTags(layers: readonly (TagsOption<never[]> | undefined)[], args: readonly unknown[], key: string): string[] {
  const out: string[] = [];
  for (const layer of layers) {
    if (layer === undefined) continue;
    const list: unknown = typeof layer === "function" ? (layer as (...a: readonly unknown[]) => unknown)(...args) : layer;
    if (!Array.isArray(list)) {
      throw new CachebackOptionsError(`The tags of "${key}" must be a list of strings (or a function of the arguments returning one), got ${typeof list}`);
    }
    for (const tag of list as unknown[]) {
      const encoded = encodeTag(tag);
      if (!out.includes(encoded)) out.push(encoded);
    }
  }
  if (out.length > MAX_TAGS_PER_ENTRY) {
    throw new CachebackOptionsError(`"${key}" would carry ${out.length} tags; an entry carries at most ${MAX_TAGS_PER_ENTRY}`);
  }
  return out;
}

/** True when both lists hold the same tags (order aside). */
export function sameTags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (const tag of a) if (!b.includes(tag)) return false;
  return true;
}
