export * from "./redis-rest.js";
export * from "./qstash-server.js";
export * from "./dev-servers.js";
export * from "./errors.js";
export * from "../qstash/dev-credentials.js";
