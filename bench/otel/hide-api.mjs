// `node --import ./bench/otel/hide-api.mjs ...`: runs as if the optional peer dependency
// @opentelemetry/api (and the rest of @opentelemetry/*) were not installed: nothing of it resolves.
// For measuring next-cacheback where an app has no OpenTelemetry at all.
import { register } from "node:module";

const hook = `
export async function resolve(specifier, context, next) {
  if (specifier.startsWith("@opentelemetry/")) {
    const error = new Error("Cannot find package '" + specifier + "' (hidden by bench/otel/hide-api.mjs)");
    error.code = "ERR_MODULE_NOT_FOUND";
    throw error;
  }
  return next(specifier, context);
}
`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
