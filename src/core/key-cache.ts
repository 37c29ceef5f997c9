import { keyParts, type CacheKey, type KeyParts } from "../keys.js";

/** Entries kept before the cache starts over: about 200 kB at most. */
const MAX_ENTRIES = 1024;

/** The map slot of a key without arguments (a job name alone). */
const NO_ARG: unique symbol = Symbol("no argument");

/**
 * The {@link KeyParts} of the keys read recently: a hit on a key read before costs two map lookups instead
 * of checking the key, building its JSON and its Redis key strings again. Only keys with at most one
 * argument, a string, a finite number, a boolean or null, are kept (the keys of most reads); others are
 * worked out each time. Keys are kept per instance (they depend on its prefix) and at most
 * {@link MAX_ENTRIES} at once: past that the cache starts over.
 */
export class KeyCache {
  readonly #prefix: string;
  readonly #byName = new Map<string, Map<unknown, KeyParts>>();
  #size = 0;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /**
   * The parts and Redis keys of `key`.
   * @throws CachebackKeyError for a key that cannot be used (as `keyParts` says).
   * @throws HashNotReadyError when the key's arguments need a hash that has not loaded yet.
   */
  of(key: CacheKey): KeyParts {
    let name: unknown;
    let arg: unknown = NO_ARG;
    if (typeof key === "string") name = key;
    else if (Array.isArray(key) && key.length <= 2) {
      name = key[0];
      if (key.length === 2) arg = key[1];
      // A map takes -0 for 0, but the fetcher must get the argument it was given.
      if (Object.is(arg, -0)) return this.#make(key);
    } else return this.#make(key);
    const found = this.#byName.get(name as string)?.get(arg);
    if (found !== undefined) return found;
    const made = this.#make(key);
    if (cacheable(arg)) this.#keep(made, arg);
    return made;
  }

  #make(key: CacheKey): KeyParts {
    return keyParts(this.#prefix, key);
  }

  #keep(made: KeyParts, arg: unknown): void {
    if (this.#size >= MAX_ENTRIES) {
      this.#byName.clear();
      this.#size = 0;
    }
    let byArg = this.#byName.get(made.name);
    if (byArg === undefined) this.#byName.set(made.name, (byArg = new Map()));
    Object.freeze(made.args); // shared by every read of the key from now on
    byArg.set(arg, made);
    this.#size++;
  }
}

/** Whether a key's argument can stand for the key in a map: a primitive (-0 is never looked up); strings up to 200 characters. */
function cacheable(arg: unknown): boolean {
  if (arg === NO_ARG || arg === null || typeof arg === "boolean") return true;
  if (typeof arg === "number") return Number.isFinite(arg);
  return typeof arg === "string" && arg.length <= 200;
}
