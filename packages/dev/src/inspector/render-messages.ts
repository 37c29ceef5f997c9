/** The QStash message log and the dead-letter queue, as HTML fragments. */
import { clock, duration, excerpt, html, type Html } from "./html.js";
import type { MessageRow } from "./messages.js";

function refreshes(row: MessageRow): Html {
  if (row.refreshes.length === 0) return html`<code class="muted">${excerpt(row.bodyExcerpt, 80)}</code>`;
  const shown = row.refreshes.slice(0, 3).map((r) => html`<div><code>${r.job}</code> <code>${excerpt(r.args, 60)}</code></div>`);
  const more = row.refreshes.length > 3 ? html`<div class="muted">and ${row.refreshes.length - 3} more</div>` : "";
  return html`${row.refreshes.length > 1 ? html`<div class="muted">batch of ${row.refreshes.length}</div>` : ""}${shown}${more}`;
}

function state(row: MessageRow, nowMs: number): Html {
  const retried = row.attempts.length > 1 ? html`<div class="sub">retried ${row.attempts.length - 1}×</div>` : "";
  let sub: Html | string = "";
  if (row.nextDeliveryAt !== null && (row.status === "waiting" || row.status === "retrying")) {
    sub = html`<div class="sub">next delivery in ${duration(row.nextDeliveryAt - nowMs)}</div>`;
  } else if (row.redeliveredAs !== null) {
    sub = html`<div class="sub">as <code>${row.redeliveredAs}</code></div>`;
  } else if (row.redeliveryOf !== null) {
    sub = html`<div class="sub">redelivery of <code>${row.redeliveryOf}</code></div>`;
  }
  return html`<span class="badge msg-${row.status}" data-testid="message-status">${row.status}</span>${retried}${sub}`;
}

/**
 * What an answer says, in short: for the refresh route's JSON, its error (or its status and key); for
 * anything else, the start of the body. The whole excerpt stays in the tooltip.
 */
export function answerSummary(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
      const { error, status, job } = parsed as { error?: unknown; status?: unknown; job?: unknown };
      if (typeof error === "string") return error;
      if (typeof status === "string") return typeof job === "string" ? `${job}: ${status}` : status;
    }
  } catch {
    // Not JSON: shown as it is.
  }
  return body.replace(/\s+/g, " ").trim();
}

function answers(row: MessageRow): Html {
  if (row.attempts.length === 0) return html`<span class="muted">not delivered yet</span>`;
  return html`<ol class="attempts">${row.attempts.map((a) => {
    const outcome = a.status !== null ? html`<span class="http ${a.status >= 200 && a.status < 300 ? "ok" : "bad"}">${a.status}</span>` : html`<span class="http bad">${a.error ?? "failed"}</span>`;
    return html`<li title="${a.body}">${outcome} <span class="muted">${duration(a.durationMs)} at ${clock(a.at)}</span> <code>${excerpt(answerSummary(a.body), 120)}</code></li>`;
  })}</ol>`;
}

function messageRow(row: MessageRow, nowMs: number, dlq: boolean): Html {
  const buttons = dlq
    ? html`<td class="actions"><button type="button" data-action="redeliver" data-id="${row.dlqId ?? row.id}">Redeliver</button><button type="button" class="danger" data-action="drop" data-id="${row.dlqId ?? row.id}">Drop</button></td>`
    : "";
  return html`<tr data-testid="${dlq ? "dead-letter-row" : "message-row"}" data-id="${row.id}" data-status="${row.status}">
<td><code>${row.id}</code><div class="sub">${clock(row.createdAt)} · <span title="${row.url}">${excerpt(row.url, 48)}</span></div></td>
<td>${refreshes(row)}</td>
<td>${state(row, nowMs)}</td>
<td>${answers(row)}</td>
${buttons}
</tr>`;
}

/** The message log fragment: the newest messages first. */
export function renderMessages(list: { rows: MessageRow[]; matched: number; total: number }, nowMs: number): Html {
  if (list.rows.length === 0) {
    return html`<p class="empty">${list.total === 0 ? "No message published yet." : "No message matches the filters."}</p>`;
  }
  return html`<table class="messages"><thead><tr><th>Message</th><th>Refreshes</th><th>State</th><th>Deliveries and answers</th></tr></thead>
<tbody>${list.rows.map((row) => messageRow(row, nowMs, false))}</tbody></table>
<p class="muted" data-testid="messages-summary">Showing ${list.rows.length} of ${list.matched} matching (${list.total} in the log).${
    list.matched > list.rows.length ? html` <button type="button" data-action="more-messages">Show more</button>` : ""
  }</p>`;
}

/** The dead-letter queue fragment, with redeliver and drop on each message. */
export function renderDeadLetters(list: { rows: MessageRow[]; matched: number; total: number }, nowMs: number): Html {
  if (list.rows.length === 0) {
    return html`<p class="empty">${list.total === 0 ? "The dead-letter queue is empty." : `No dead letter matches the filters (${list.total} in the queue).`}</p>`;
  }
  return html`<table class="messages dlq"><thead><tr><th>Message</th><th>Refreshes</th><th>State</th><th>Deliveries and answers</th><th></th></tr></thead>
<tbody>${list.rows.map((row) => messageRow(row, nowMs, true))}</tbody></table>${
    list.matched > list.rows.length ? html`<p class="muted">${list.matched - list.rows.length} more not shown.</p>` : ""
  }`;
}
