/** The inspector's page: the shell (filters, sections, value viewer), with the first snapshot rendered in it. */
import { Html, html } from "./html.js";
import type { ViewQuery, ViewSnapshot } from "./view.js";

/** What the page says about where it looks. */
export interface PageInfo {
  token: string;
  redisUrl: string;
  qstashUrl: string;
  refreshUrl: string;
  defaultPrefix: string;
}

function option(value: string, label: string, selected: boolean): Html {
  return html`<option value="${value}"${selected ? html` selected` : ""}>${label}</option>`;
}

/** The whole page for `query`, with `view` already in it (it works before the script runs, and without it). */
export function renderPage(info: PageInfo, query: ViewQuery, view: ViewSnapshot): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="inspector-token" content="${info.token}">
<title>next-cacheback inspector</title>
<link rel="stylesheet" href="/assets/inspector.css">
<script type="module" src="/assets/inspector.js"></script>
</head>
<body>
<header class="top">
<h1>next-cacheback <span>inspector</span></h1>
<dl class="servers">
<div><dt>Redis REST</dt><dd><code>${info.redisUrl}</code></dd></div>
<div><dt>QStash</dt><dd><code>${info.qstashUrl}</code></dd></div>
<div><dt>Refresh route</dt><dd><code>${info.refreshUrl}</code></dd></div>
</dl>
<p class="live" data-testid="live" data-at="${view.at}"><span class="dot"></span> <span id="live-text">live</span></p>
</header>
<form id="filters" class="filters" method="get" action="/" autocomplete="off">
<label>Prefix <input name="prefix" value="${query.prefix}" placeholder="${info.defaultPrefix}" size="26" data-testid="prefix"></label>
<label>Entries <select name="kind">${option("data", "data (entry:)", query.kind === "data")}${option("page", "'use cache: remote' (hentry:)", query.kind === "page")}</select></label>
<label>Job <input name="job" value="${query.job}" placeholder="any" size="12" data-testid="filter-job"></label>
<label>Key contains <input name="key" value="${query.key}" placeholder="e.g. ACME" size="14" data-testid="filter-key"></label>
<label>Tag <input name="tag" value="${query.tag}" placeholder="any" size="12" data-testid="filter-tag"></label>
<label>Per page <select name="size">${[25, 50, 100, 200, 500].map((n) => option(String(n), String(n), query.pageSize === n))}</select></label>
<input type="hidden" name="messages" value="${query.messages}">
<button type="submit">Apply</button>
<button type="button" data-action="clear-filters">Clear</button>
</form>
<p id="notice" class="notice" role="status" data-testid="notice" hidden></p>
<main>
<section class="card">
<h2>Entries <span class="muted">under <code id="shown-prefix">${query.prefix}</code></span></h2>
<div id="entries" data-testid="entries" data-cursor="${query.cursor}" data-next-cursor="${view.nextCursor}">${new Html(view.entries)}</div>
</section>
<section class="card">
<h2>Refresh locks</h2>
<div id="locks" data-testid="locks">${new Html(view.locks)}</div>
</section>
<section class="card">
<h2>Dead-letter queue <span class="count" id="dlq-count">${view.deadLetterCount}</span></h2>
<div id="dead-letters" data-testid="dead-letters">${new Html(view.deadLetters)}</div>
</section>
<section class="card">
<h2>QStash message log</h2>
<div id="messages" data-testid="messages">${new Html(view.messages)}</div>
</section>
</main>
<dialog id="viewer" data-testid="viewer">
<header><h3>Value</h3><code id="viewer-key"></code><button type="button" data-action="close-viewer" aria-label="Close">✕</button></header>
<p id="viewer-info" class="muted"></p>
<details><summary>Entry metadata</summary><pre id="viewer-meta"></pre></details>
<pre id="viewer-value" data-testid="viewer-value"></pre>
<p><button type="button" id="viewer-all" data-action="view-all" hidden>Show the whole value</button></p>
</dialog>
</body>
</html>
`.text;
}
