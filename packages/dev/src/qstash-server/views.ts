import type { MessageRecord } from "next-cacheback/delivery";

/** A message as the dev server's `/v2/messages` and `/v2/dlq` endpoints show it (the `@upstash/qstash` `Message` shape, plus its deliveries). */
export interface MessageView {
  messageId: string;
  url: string;
  method: string;
  header: Record<string, string[]>;
  body?: string;
  bodyBase64?: string;
  maxRetries: number;
  notBefore: number;
  createdAt: number;
  timeout: number;
  state: MessageRecord["state"];
  retried: number;
  attempts: MessageRecord["attempts"];
  nextDeliveryAt?: number;
  deduplicationId?: string;
  callerIp?: string;
  dlqId?: string;
  redeliveryOf?: string;
  redeliveredAs?: string;
  responseStatus?: number;
  responseHeader?: Record<string, string[]>;
  responseBody?: string;
}

/** The JSON view of a message record. */
export function messageView(record: MessageRecord): MessageView {
  const view: MessageView = {
    messageId: record.messageId,
    url: record.url,
    method: record.method,
    header: Object.fromEntries(Object.entries(record.headers).map(([name, value]) => [name, [value]])),
    maxRetries: record.maxRetries,
    notBefore: record.notBefore,
    createdAt: record.createdAt,
    timeout: record.timeoutSeconds,
    state: record.state,
    retried: Math.max(0, record.attempts.length - 1),
    attempts: record.attempts,
  };
  if (record.body !== undefined) view.body = record.body;
  if (record.bodyBase64 !== undefined) view.bodyBase64 = record.bodyBase64;
  if (record.nextDeliveryAt !== undefined) view.nextDeliveryAt = record.nextDeliveryAt;
  if (record.deduplicationId !== undefined) view.deduplicationId = record.deduplicationId;
  if (record.callerIp !== undefined) view.callerIp = record.callerIp;
  if (record.dlqId !== undefined) view.dlqId = record.dlqId;
  if (record.redeliveryOf !== undefined) view.redeliveryOf = record.redeliveryOf;
  if (record.redeliveredAs !== undefined) view.redeliveredAs = record.redeliveredAs;
  if (record.responseStatus !== undefined) view.responseStatus = record.responseStatus;
  if (record.responseHeader !== undefined) view.responseHeader = record.responseHeader;
  if (record.responseBody !== undefined) view.responseBody = record.responseBody;
  return view;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function row(record: MessageRecord): string {
  const last = record.attempts.at(-1);
  const outcome = last === undefined ? "" : last.status !== undefined ? `HTTP ${last.status}` : (last.error ?? "");
  const cells = [
    new Date(record.createdAt).toISOString(),
    record.messageId,
    record.state,
    record.method,
    record.url,
    String(record.attempts.length),
    outcome,
  ];
  return `<tr>${cells.map((cell) => `<td>${escapeHtml(cell)}</td>`).join("")}</tr>`;
}

function table(records: MessageRecord[], empty: string): string {
  if (records.length === 0) return `<p>${escapeHtml(empty)}</p>`;
  const head = ["created", "message id", "state", "method", "destination", "deliveries", "last result"];
  return `<table><thead><tr>${head.map((cell) => `<th>${cell}</th>`).join("")}</tr></thead><tbody>${records
    .map(row)
    .join("")}</tbody></table>`;
}

/** The human-readable page served at `GET /`: recent messages and the dead-letter queue. */
export function consolePage(input: { url: string; messages: MessageRecord[]; deadLetters: MessageRecord[] }): string {
  const recent = input.messages.slice(0, 100);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>next-cacheback dev: QStash</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%;margin-bottom:2rem}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;font-family:ui-monospace,monospace;font-size:12px}th{background:#f4f4f4}</style>
</head><body>
<h1>Local QStash at ${escapeHtml(input.url)}</h1>
<p>${input.messages.length} message(s) in the log, ${input.deadLetters.length} in the dead-letter queue.
JSON: <code>GET /v2/messages</code>, <code>GET /v2/dlq</code> (bearer token required).</p>
<h2>Recent messages</h2>
${table(recent, "No message published yet.")}
<h2>Dead-letter queue</h2>
${table(input.deadLetters, "The dead-letter queue is empty.")}
</body></html>
`;
}
