/** The entries table and the locks list, as HTML fragments the page swaps in on every update. */
import { bytes, clock, duration, excerpt, html, type Html } from "./html.js";
import type { EntryKind } from "./keys.js";
import type { EntryPage, LockRow } from "./listing.js";
import type { EntryRow } from "./rows.js";

const STATUS_LABEL: Record<EntryRow["status"], string> = {
  fresh: "fresh",
  stale: "stale",
  "stale-by-tag": "stale by tag",
  "expired-by-tag": "expired by tag",
  expired: "expired",
  unreadable: "unreadable",
};

function freshness(row: EntryRow, nowMs: number): string {
  if (row.freshUntil === null) return row.reason;
  if (row.status === "fresh") return `fresh for ${duration(row.freshUntil - nowMs)}`;
  if (row.status === "stale" && row.freshUntil === 0) return "invalidated";
  if (row.status === "stale") return `stale for ${duration(nowMs - row.freshUntil)}`;
  return row.reason;
}

function ttl(pttlMs: number): string {
  if (pttlMs === -1) return "never";
  if (pttlMs < 0) return "gone";
  return duration(pttlMs);
}

function entryCell(row: EntryRow): Html {
  if (row.job === null) return html`<td class="key" colspan="2"><code>${excerpt(row.id, 160)}</code></td>`;
  const args = row.hash !== null ? html`<code class="hash" title="The arguments are stored as their SHA-256">#${row.hash.slice(0, 16)}…</code>` : row.args === null ? html`<span class="muted">none</span>` : html`<code>${excerpt(row.args, 120)}</code>`;
  return html`<td class="job"><code>${row.job}</code></td><td class="args">${args}</td>`;
}

function actions(row: EntryRow, kind: EntryKind): Html {
  const invalidate =
    kind === "data" && row.status !== "unreadable"
      ? html`<button type="button" data-action="invalidate" data-key="${row.key}" title="${row.hash !== null ? "Mark stale (the arguments are hashed: the app's next read queues the refresh)" : "Mark stale and queue its refresh"}">Invalidate</button>`
      : "";
  return html`<td class="actions"><button type="button" data-action="view" data-key="${row.key}">View</button>${invalidate}<button type="button" class="danger" data-action="delete" data-key="${row.key}">Delete</button></td>`;
}

function entryRow(row: EntryRow, kind: EntryKind, nowMs: number): Html {
  const age = row.writtenAt === null ? "" : duration(nowMs - row.writtenAt);
  const lock = row.lockedUntil === null ? "" : html`<span class="lock" title="lock held until ${clock(row.lockedUntil)}">held ${duration(row.lockedUntil - nowMs)}</span>`;
  return html`<tr data-testid="entry-row" data-key="${row.key}" data-status="${row.status}">
${entryCell(row)}
<td><span class="badge ${row.status}" data-testid="entry-status">${STATUS_LABEL[row.status]}</span><div class="sub">${freshness(row, nowMs)}</div></td>
<td class="num">${age}</td>
<td class="num" title="PTTL ${row.pttlMs} ms">${ttl(row.pttlMs)}</td>
<td class="num">${bytes(row.size)}</td>
<td class="tags">${row.tags.map((tag) => html`<button type="button" class="tag" data-action="filter-tag" data-tag="${tag}">${tag}</button>`)}</td>
<td>${lock}</td>
${actions(row, kind)}
</tr>`;
}

/** The entries fragment: the table of one page, and the pager. */
export function renderEntries(page: EntryPage, kind: EntryKind, nowMs: number, first: boolean): Html {
  const head = kind === "data" ? html`<th>Job</th><th>Arguments</th>` : html`<th colspan="2">Cache key</th>`;
  const body =
    page.rows.length === 0
      ? html`<tr><td colspan="10" class="empty">${page.cursor === "0" ? "No entry here." : "No entry in this stretch of the keyspace: go on with Next."}</td></tr>`
      : page.rows.map((row) => entryRow(row, kind, nowMs));
  return html`<table class="entries">
<thead><tr>${head}<th>Status</th><th class="num">Age</th><th class="num">Expires in</th><th class="num">Size</th><th>Tags</th><th>Lock</th><th></th></tr></thead>
<tbody>${body}</tbody>
</table>
<div class="pager" data-next-cursor="${page.cursor}">
<span class="muted" data-testid="page-summary">${page.rows.length} ${page.rows.length === 1 ? "entry" : "entries"} on this page · ${page.scanned} keys scanned${page.cursor === "0" ? " · end of the list" : ""}</span>
<button type="button" data-action="first-page"${first ? html` disabled` : ""}>First page</button>
<button type="button" data-action="previous-page"${first ? html` disabled` : ""}>Previous page</button>
<button type="button" data-action="next-page"${page.cursor === "0" ? html` disabled` : ""}>Next page</button>
</div>`;
}

/** The locks fragment. */
export function renderLocks(locks: { rows: LockRow[]; more: boolean }, nowMs: number): Html {
  if (locks.rows.length === 0) return html`<p class="empty">No refresh lock is held.</p>`;
  return html`<table class="locks"><thead><tr><th>Entry</th><th>Kind</th><th>Held until</th><th>Token</th></tr></thead><tbody>
${locks.rows.map(
  (lock) => html`<tr data-testid="lock-row" data-key="${lock.key}"><td><code>${excerpt(lock.id, 120)}</code></td><td>${lock.kind === "data" ? "refresh" : "page regeneration"}</td><td class="num">${lock.until === null ? "no expiry" : html`${clock(lock.until)} <span class="muted">(${duration(lock.until - nowMs)})</span>`}</td><td><code class="muted">${excerpt(lock.token ?? "", 40)}</code></td></tr>`,
)}
</tbody></table>${locks.more ? html`<p class="muted">More locks are held than shown.</p>` : ""}`;
}
