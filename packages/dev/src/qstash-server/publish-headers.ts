import { QStashPublishError, type PublishInput } from "next-cacheback/delivery";
import { parseDurationSeconds } from "./duration.js";

/** What the `Upstash-*` headers of a publish request ask for, ready to merge into a {@link PublishInput}. */
export type PublishHeaderOptions = Omit<PublishInput, "destination" | "body"> & {
  /** The `Upstash-*` options present in the request that the local engine does not implement. */
  unsupported: string[];
};

/** `Upstash-*` publish options the local engine accepts but does not act on. */
const UNSUPPORTED = new Set([
  "upstash-callback",
  "upstash-failure-callback",
  "upstash-retry-delay",
  "upstash-flow-control-key",
  "upstash-flow-control-value",
  "upstash-label",
  "upstash-redact-fields",
  "upstash-cron",
  "upstash-schedule-id",
]);

const FORWARD_PREFIX = "upstash-forward-";

function wholeNumber(name: string, value: string, hint: string): number {
  const text = value.trim();
  if (!/^\d+$/.test(text)) throw new QStashPublishError(`invalid ${name} header "${value}": ${hint}`);
  return Number(text);
}

function duration(name: string, value: string): number {
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined) {
    throw new QStashPublishError(
      `invalid ${name} header "${value}": use a number followed by s, m, h or d, such as 10s, 5m, 2h or 1d`,
    );
  }
  return seconds;
}

/**
 * Reads the headers of a QStash publish request (as `@upstash/qstash` sends them) into publish options:
 * `Content-Type` passes through, `Upstash-Forward-<Name>` is delivered as `<Name>`, and `Upstash-Method`,
 * `-Delay`, `-Not-Before`, `-Retries`, `-Timeout`, `-Deduplication-Id` and `-Content-Based-Deduplication`
 * become options. Other headers (authorization, telemetry...) are dropped. Repeated headers are joined
 * with `", "`; the name of a forwarded header keeps the case it was sent with.
 * @throws {QStashPublishError} (400) for a malformed option header.
 */
export function parsePublishHeaders(headers: Iterable<readonly [string, string]>): PublishHeaderOptions {
  const delivered: Record<string, string> = {};
  const options: Record<string, string> = {};
  const deliveredNames = new Map<string, string>();
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    const existing = deliveredNames.get(key);
    if (existing === undefined) {
      deliveredNames.set(key, name);
      delivered[name] = value;
    } else {
      delivered[existing] = `${delivered[existing]}, ${value}`;
    }
  };
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === "content-type") add("Content-Type", value);
    else if (lower.startsWith(FORWARD_PREFIX) && lower.length > FORWARD_PREFIX.length) {
      add(name.slice(FORWARD_PREFIX.length), value);
    } else if (lower.startsWith("upstash-")) {
      options[lower] = lower in options ? `${options[lower]}, ${value}` : value;
    }
  }

  const result: PublishHeaderOptions = { headers: delivered, unsupported: [] };
  for (const [name, value] of Object.entries(options)) {
    switch (name) {
      case "upstash-method":
        result.method = value.trim().toUpperCase();
        break;
      case "upstash-delay":
        result.delaySeconds = duration("Upstash-Delay", value);
        break;
      case "upstash-not-before":
        result.notBefore = wholeNumber("Upstash-Not-Before", value, "use unix seconds");
        break;
      case "upstash-retries":
        result.retries = wholeNumber("Upstash-Retries", value, "use a whole number >= 0");
        break;
      case "upstash-timeout": {
        const seconds = duration("Upstash-Timeout", value);
        if (seconds <= 0) throw new QStashPublishError(`invalid Upstash-Timeout header "${value}": use at least 1s`);
        result.timeoutSeconds = seconds;
        break;
      }
      case "upstash-deduplication-id":
        if (value !== "") result.deduplicationId = value;
        break;
      case "upstash-content-based-deduplication":
        result.contentBasedDeduplication = value.trim().toLowerCase() === "true";
        break;
      default:
        if (UNSUPPORTED.has(name)) result.unsupported.push(name);
    }
  }
  return result;
}
