export * from "./redis-rest.js";
export * from "./qstash-server.js";
export * from "./dev-servers.js";
export * from "./errors.js";
export {
  QSTASH_DEV_CURRENT_SIGNING_KEY,
  QSTASH_DEV_NEXT_SIGNING_KEY,
  QSTASH_DEV_PORT,
  QSTASH_DEV_TOKEN,
} from "next-cacheback/delivery";
