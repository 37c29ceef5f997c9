/** One remembered read: numbers and a token only (nothing of the request: no stream, no promise). */
interface Remembered {
  version: number;
  at: number;
  token: string | undefined;
}

/**
 * What a `get` that sends Next.js to render an entry (a miss, or a won regeneration lock) leaves for the
 * `set` that follows it in this process: the version the read saw on the shared clock (the entry's data
 * is computed after it) and the lock's token.
 * Bounded: a version is forgotten `windowMs` after its read (a `set` then takes its version in its own
 * script), and past `maxKeys` the oldest are dropped.
 */
export class RememberedVersions {
  readonly #byKey = new Map<string, Remembered>();
  readonly #windowMs: number;
  readonly #maxKeys: number;

  constructor(windowMs: number, maxKeys = 10_000) {
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#byKey.size;
  }

  /**
   * Notes a read of `key`. An earlier version still within the window is kept (the older one is the
   * safe one: a regeneration may have started after that read); a won lock's token replaces any other.
   */
  remember(key: string, version: number | undefined, token: string | undefined, now: number): void {
    const current = this.#byKey.get(key);
    const live = current && current.at + this.#windowMs > now ? current : undefined;
    const next: Remembered =
      version === undefined
        ? { version: live?.version ?? Number.NaN, at: live?.at ?? now, token: token ?? live?.token }
        : live && !Number.isNaN(live.version) && live.version <= version
          ? { ...live, token: token ?? live.token }
          : { version, at: now, token: token ?? live?.token };
    this.#byKey.delete(key);
    this.#byKey.set(key, next);
    if (this.#byKey.size > this.#maxKeys) this.#sweep(now);
  }

  /** Takes (and forgets) what the reads of `key` left: a version still within the window, and a token. */
  take(key: string, now: number): { version: number | undefined; token: string | undefined } {
    const found = this.#byKey.get(key);
    if (!found) return { version: undefined, token: undefined };
    this.#byKey.delete(key);
    const fresh = found.at + this.#windowMs > now && !Number.isNaN(found.version);
    return { version: fresh ? found.version : undefined, token: found.token };
  }

  #sweep(now: number): void {
    for (const [key, r] of this.#byKey) if (r.at + this.#windowMs <= now) this.#byKey.delete(key);
    for (const key of this.#byKey.keys()) {
      if (this.#byKey.size <= this.#maxKeys) break;
      this.#byKey.delete(key);
    }
  }
}
