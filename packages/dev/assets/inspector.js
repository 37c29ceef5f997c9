// @ts-check
// The inspector page's script: it keeps the server-rendered fragments live (one GET of /api/view a second),
// pages through the entries with the SCAN cursor, and sends the actions with the page's token. Shipped as
// it is: no build step, no dependency.

const POLL_MS = 1000;
const HIDDEN_POLL_MS = 5000;

/** @param {string} id */
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

const token = /** @type {HTMLMetaElement} */ (document.querySelector('meta[name="inspector-token"]')).content;
const form = /** @type {HTMLFormElement} */ (byId("filters"));
const regions = {
  entries: byId("entries"),
  locks: byId("locks"),
  deadLetters: byId("dead-letters"),
  messages: byId("messages"),
};
const notice = byId("notice");
const liveText = byId("live-text");
const live = /** @type {HTMLElement} */ (document.querySelector("[data-testid=live]"));
const viewer = /** @type {HTMLDialogElement} */ (byId("viewer"));

/** The SCAN cursor of the page shown, the cursor of the next page, and those of the pages before. */
let cursor = regions.entries.dataset.cursor || "0";
let nextCursor = regions.entries.dataset.nextCursor || "0";
/** @type {string[]} */
let previous = [];
/** The fragments shown, to swap only what changed. @type {Map<HTMLElement, string>} */
const shown = new Map();

/** @param {string} name */
function formValue(name) {
  const field = /** @type {HTMLInputElement | HTMLSelectElement | null} */ (form.elements.namedItem(name));
  return field ? field.value.trim() : "";
}

/** @param {string} name @param {string} value */
function setFormValue(name, value) {
  const field = /** @type {HTMLInputElement | null} */ (form.elements.namedItem(name));
  if (field) field.value = value;
}

/** The page's state as a query string (empty fields left out). */
function query() {
  const params = new URLSearchParams();
  for (const name of ["prefix", "kind", "job", "key", "tag", "size", "messages"]) {
    const value = formValue(name);
    if (value !== "") params.set(name, value);
  }
  if (cursor !== "0") params.set("cursor", cursor);
  return params;
}

/** @param {HTMLElement} region */
function selectingIn(region) {
  const selection = window.getSelection();
  return selection !== null && !selection.isCollapsed && region.contains(selection.anchorNode);
}

/** @param {HTMLElement} region @param {string} text */
function swap(region, text) {
  if (shown.get(region) === text || selectingIn(region)) return;
  region.innerHTML = text;
  shown.set(region, text);
}

/** @param {string} message @param {boolean} ok */
function say(message, ok) {
  notice.textContent = message;
  notice.className = `notice ${ok ? "ok" : "error"}`;
  notice.hidden = false;
}

/** @param {string} path @param {RequestInit} [init] */
async function call(path, init = {}) {
  const response = await fetch(path, { ...init, cache: "no-store", headers: { ...init.headers, "x-inspector-token": token } });
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok && body.error) throw new Error(body.error);
  return body;
}

let timer = 0;
let running = false;
let again = false;

async function update() {
  if (running) {
    again = true;
    return;
  }
  running = true;
  window.clearTimeout(timer);
  try {
    const params = query();
    const view = await call(`/api/view?${params}`);
    swap(regions.entries, view.entries);
    swap(regions.locks, view.locks);
    swap(regions.deadLetters, view.deadLetters);
    swap(regions.messages, view.messages);
    nextCursor = view.nextCursor;
    byId("dlq-count").textContent = String(view.deadLetterCount);
    byId("shown-prefix").textContent = view.prefix;
    live.classList.remove("offline");
    live.dataset.at = String(view.at);
    liveText.textContent = `live · ${new Date(view.at).toLocaleTimeString()}`;
  } catch (error) {
    live.classList.add("offline");
    liveText.textContent = `cannot update: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    running = false;
    if (again) {
      again = false;
      void update();
    } else {
      timer = window.setTimeout(update, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
    }
  }
}

/** After a change of filters: back to the first page, the address bar in step, and an update now. */
function restart() {
  cursor = "0";
  previous = [];
  history.replaceState(null, "", `/?${query()}`);
  void update();
}

/** @param {string} action @param {Record<string, string>} payload */
async function act(action, payload) {
  try {
    const result = await call(`/api/actions/${action}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
    });
    say(result.message ?? result.error ?? "done", result.ok !== false);
  } catch (error) {
    say(error instanceof Error ? error.message : String(error), false);
  }
  void update();
}

/** @param {string} key @param {boolean} full */
async function view(key, full) {
  byId("viewer-key").textContent = key;
  byId("viewer-value").textContent = "Loading…";
  if (!viewer.open) viewer.showModal();
  try {
    const params = new URLSearchParams({ key, prefix: formValue("prefix") });
    if (full) params.set("full", "1");
    const value = await call(`/api/value?${params}`);
    if (!value.found) {
      byId("viewer-info").textContent = "Nothing is stored under this key any more.";
      byId("viewer-value").textContent = "";
      byId("viewer-meta").textContent = "";
      byId("viewer-all").hidden = true;
      return;
    }
    const kb = (value.size / 1000).toFixed(1);
    byId("viewer-info").textContent = value.truncated
      ? `${kb} kB stored; showing the first ${value.text.length.toLocaleString()} of ${value.length.toLocaleString()} characters.`
      : `${kb} kB stored.`;
    byId("viewer-meta").textContent = value.meta;
    byId("viewer-value").textContent = value.text;
    const all = byId("viewer-all");
    all.hidden = !value.truncated;
    all.dataset.key = key;
  } catch (error) {
    byId("viewer-value").textContent = error instanceof Error ? error.message : String(error);
  }
}

document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target.closest("[data-action]") : null;
  if (!(target instanceof HTMLElement)) return;
  const { action, key = "", id = "" } = target.dataset;
  const prefix = formValue("prefix");
  switch (action) {
    case "view":
      void view(key, false);
      break;
    case "view-all":
      void view(target.dataset.key ?? "", true);
      break;
    case "close-viewer":
      viewer.close();
      break;
    case "invalidate":
    case "delete":
      void act(action, { prefix, key });
      break;
    case "redeliver":
    case "drop":
      void act(action, { id });
      break;
    case "filter-tag":
      setFormValue("tag", target.dataset.tag ?? "");
      restart();
      break;
    case "clear-filters":
      for (const name of ["job", "key", "tag"]) setFormValue(name, "");
      restart();
      break;
    case "next-page":
      if (nextCursor !== "0") {
        previous.push(cursor);
        cursor = nextCursor;
        void update();
      }
      break;
    case "previous-page":
      cursor = previous.pop() ?? "0";
      void update();
      break;
    case "first-page":
      cursor = "0";
      previous = [];
      void update();
      break;
    case "more-messages":
      setFormValue("messages", String(Number(formValue("messages") || "20") + 50));
      void update();
      break;
  }
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  restart();
});

let typing = 0;
form.addEventListener("input", (event) => {
  window.clearTimeout(typing);
  typing = window.setTimeout(restart, event.target instanceof HTMLSelectElement ? 0 : 300);
});

for (const region of Object.values(regions)) shown.set(region, region.innerHTML);
timer = window.setTimeout(update, POLL_MS);
