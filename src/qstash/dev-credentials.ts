/**
 * The public credentials of the official QStash local dev server. They are published by Upstash, printed by
 * `npx @upstash/qstash-cli dev`, and hard-coded in `@upstash/qstash` for `QSTASH_DEV=true`; they guard
 * nothing and must never be used in production.
 */

/** The dev server's bearer token (`QSTASH_TOKEN` in dev). */
export const QSTASH_DEV_TOKEN = "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=";

/** The dev server's current signing key (`QSTASH_CURRENT_SIGNING_KEY` in dev). */
export const QSTASH_DEV_CURRENT_SIGNING_KEY = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r";

/** The dev server's next signing key (`QSTASH_NEXT_SIGNING_KEY` in dev). */
export const QSTASH_DEV_NEXT_SIGNING_KEY = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs";

/** The port the dev server listens on, and the one `@upstash/qstash` uses when `QSTASH_DEV_PORT` is unset. */
export const QSTASH_DEV_PORT = 8080;
