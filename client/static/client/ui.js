// Building blocks every screen uses: data loading with its states, actions with their
// idempotency keys, errors as sentences, and the small accessible components.
import { html, useCallback, useEffect, useRef, useState } from "./vendor/preact-htm.js";

import { api, ApiError, isAbort, newIdempotencyKey, takePrefetched } from "./api.js";
import { formatMoney, has, language, onLanguageChange, t } from "./i18n.js";

export { html };

// --- Errors as sentences ---------------------------------------------------------------

/** Any error, as one helpful sentence in the current language (never raw JSON). */
export function errorMessage(error) {
  if (error instanceof ApiError) {
    if (has(`error.${error.code}`)) return t(`error.${error.code}`);
    if (error.status >= 500) return t("error.server_error");
    // A code this app does not know yet: the server's own sentence is still helpful.
    if (error.detail) return error.detail;
  }
  return t("error.unknown");
}

/** A field's error in the current language: by its code when known, else the server's. */
export function fieldMessage(error) {
  if (!error) return "";
  if (error.all && error.all.length > 1) {
    return error.all.map((each) => fieldMessage({ ...each, all: null })).join(" ");
  }
  if (error.code && has(`field.${error.code}`)) return t(`field.${error.code}`);
  return error.message || t("field.invalid");
}

// --- Data ------------------------------------------------------------------------------

/**
 * Load something: {data, error, loading, reload}. `load(signal)` returns a promise of the
 * data; it runs again when a value in `deps` changes or on reload(), aborting the load
 * before. A null `load` loads nothing. The data stays while it loads again. Only the
 * latest load's result is ever shown: a superseded one (aborted or not) is ignored.
 */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: Boolean(load) });
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);
  // The latest `load` is the one to run; `deps` (plain values) say when to run it again.
  const loader = useRef(load);
  loader.current = load;
  const key = JSON.stringify(deps);
  useEffect(() => {
    const id = ++latest.current;
    const load = loader.current;
    if (!load) return undefined;
    const controller = new AbortController();
    const current = () => id === latest.current && !controller.signal.aborted;
    setState((previous) => ({ ...previous, error: null, loading: true }));
    load(controller.signal).then(
      (data) => {
        if (current()) setState({ data, error: null, loading: false });
      },
      (error) => {
        if (current() && !isAbort(error)) setState((previous) => ({ ...previous, error, loading: false }));
      },
    );
    return () => controller.abort();
  }, [key, generation]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...state, reload };
}

/**
 * Load an API path: {data, error, loading, reload}. Loads again when `path` changes;
 * a null path loads nothing. A load the app started early for this path (see
 * `prefetch` in api.js) is taken over instead of asking again.
 */
export function useApi(path) {
  return useLoad(
    path ? (signal) => takePrefetched(path) || api(path, { signal }) : null,
    [path],
  );
}

/**
 * The rows of a paginated list, following the API's `next` links from `path`: at most
 * `maxPages` pages, and no more pages once `maxRows` rows are in (only those are kept).
 * Resolves to {rows, count}, the count as the last page read says it.
 */
export async function allPages(path, { signal, maxPages = Infinity, maxRows = Infinity } = {}) {
  const rows = [];
  let count = 0;
  let next = path;
  for (let pages = 0; next && pages < maxPages && rows.length < maxRows; pages += 1) {
    const page = await api(next, { signal });
    count = page.count;
    rows.push(...(page.results || []));
    next = page.next;
  }
  return { rows: rows.slice(0, maxRows), count };
}

/**
 * Every row of a paginated list (see allPages for `maxPages` and `maxRows`):
 * {data: rows, count, error, loading, reload}. Loads again when `path` changes; the rows
 * stay while they load again.
 */
export function useAllPages(path, { maxPages = Infinity, maxRows = Infinity } = {}) {
  const result = useLoad(
    path ? (signal) => allPages(path, { signal, maxPages, maxRows }) : null,
    [path, maxPages, maxRows],
  );
  const { rows = null, count = 0 } = result.data || {};
  return { ...result, data: rows, count };
}

/**
 * A paginated list: the current page plus next/previous that follow the API's links.
 * `path` is the first page; changing it starts again from there.
 */
export function usePaged(path) {
  const [pagePath, setPagePath] = useState(path);
  const [pageNumber, setPageNumber] = useState(1);
  useEffect(() => {
    setPagePath(path);
    setPageNumber(1);
  }, [path]);
  const result = useApi(pagePath);
  // A page that is gone when the list is loaded again (its last row was paid, removed...):
  // back to the first page rather than an error that no retry can fix.
  const gone = result.error instanceof ApiError && result.error.status === 404 && pagePath !== path;
  useEffect(() => {
    if (!gone) return;
    setPagePath(path);
    setPageNumber(1);
  }, [gone, path]);
  const data = result.data;
  // The first page is a full page whenever there is a next one: its size is the page size.
  const pageSize = useRef(null);
  if (pageNumber === 1 && data?.next) pageSize.current = data.results.length;
  return {
    ...result,
    error: gone ? null : result.error,
    loading: result.loading || gone,
    page: pageNumber,
    pageSize: pageSize.current,
    next: data?.next
      ? () => {
          setPagePath(data.next);
          setPageNumber((n) => n + 1);
        }
      : null,
    previous: data?.previous
      ? () => {
          setPagePath(data.previous);
          setPageNumber((n) => Math.max(1, n - 1));
        }
      : null,
  };
}

/**
 * An action the user starts (pay, top up, revoke...): {run, busy, error, reset}.
 * `run(...args)` calls `perform(idempotencyKey, ...args)`; the key stays the same while
 * the action fails (so a retry cannot pay twice) and is renewed after a success.
 */
export function useAction(perform) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const key = useRef(newIdempotencyKey());
  const mounted = useRef(true);
  useEffect(() => () => (mounted.current = false), []);
  const run = useCallback(
    async (...args) => {
      setBusy(true);
      setError(null);
      try {
        const result = await perform(key.current, ...args);
        key.current = newIdempotencyKey();
        return result;
      } catch (caught) {
        if (mounted.current) setError(caught);
        return undefined;
      } finally {
        if (mounted.current) setBusy(false);
      }
    },
    [perform],
  );
  const reset = useCallback(() => {
    setError(null);
    key.current = newIdempotencyKey();
  }, []);
  return { run, busy, error, reset };
}

// --- Announcements ---------------------------------------------------------------------

const noticeListeners = new Set();

/**
 * Say something briefly (and to screen readers): "Bill paid". `message` is a function that
 * says it in the current language (`() => t("bills.paid")`), so a notice still on screen
 * when the language changes is said again in the new one. `action` ({label, run}; its
 * label a function too) adds a button, and keeps the notice until it is used
 * ("Updated — reload").
 */
export function notify(message, action = null) {
  for (const listener of noticeListeners) listener({ message, action });
}

/** A notice's words now: a function is asked again in the current language. */
function said(words) {
  return typeof words === "function" ? words() : words || "";
}

/**
 * The notices' live region: always in the page (a region that appears only with its text
 * is often not announced), out of sight while it is empty. It shows again in the new
 * language when the language changes.
 */
export function Notices() {
  const [notice, setNotice] = useState({ message: "", action: null });
  const [, setShownIn] = useState(language());
  useEffect(() => onLanguageChange(setShownIn), []);
  useEffect(() => {
    let timer = null;
    const listener = (next) => {
      setNotice(next);
      clearTimeout(timer);
      if (!next.action) timer = setTimeout(() => setNotice({ message: "", action: null }), 5000);
    };
    noticeListeners.add(listener);
    return () => {
      noticeListeners.delete(listener);
      clearTimeout(timer);
    };
  }, []);
  const message = said(notice.message);
  const action = notice.action;
  return html`<div class=${message ? "toast" : "toast toast-hidden"} role="status" aria-live="polite">
    ${message}
    ${action
      ? html`<button type="button" class="toast-action" onClick=${action.run}>${said(action.label)}</button>`
      : null}
  </div>`;
}

// --- Components ------------------------------------------------------------------------

/**
 * A screen: its heading takes the focus when it opens, so screen readers announce it (only
 * then: a new language or a name loaded later changes the words, not where the focus is).
 */
export function Screen({ title, children, actions = null }) {
  const heading = useRef(null);
  useEffect(() => {
    heading.current?.focus({ preventScroll: true });
  }, []);
  useEffect(() => {
    document.title = `${title} · ${t("app.name")}`;
  }, [title]);
  return html`<section class="screen" aria-labelledby="screen-title">
    <header class="screen-head">
      <h1 id="screen-title" tabindex="-1" ref=${heading}>${title}</h1>
      ${actions}
    </header>
    ${children}
  </section>`;
}

export function Card({ title, children, headingLevel = 2, class: extra = "", ...rest }) {
  const Heading = `h${headingLevel}`;
  return html`<section class=${`card ${extra}`} ...${rest}>
    ${title ? html`<${Heading} class="card-title">${title}</${Heading}>` : null} ${children}
  </section>`;
}

export function Loading({ label }) {
  return html`<div class="loading" role="status" aria-live="polite">
    <span class="spinner" aria-hidden="true"></span>
    <span>${label || t("common.loading")}</span>
  </div>`;
}

export function ErrorNotice({ error, onRetry }) {
  if (!error) return null;
  return html`<div class="notice notice-error" role="alert">
    <p>${errorMessage(error)}</p>
    ${onRetry
      ? html`<button type="button" class="button button-secondary" onClick=${onRetry}>
          ${t("common.retry")}
        </button>`
      : null}
  </div>`;
}

/** What a loaded resource shows: a spinner, the error with a retry, or `children(data)`. */
export function Loaded({ result, children, label }) {
  if (result.loading && !result.data) return html`<${Loading} label=${label} />`;
  if (result.error) return html`<${ErrorNotice} error=${result.error} onRetry=${result.reload} />`;
  if (!result.data) return null;
  return children(result.data);
}

export function Empty({ children }) {
  return html`<p class="empty">${children || t("common.empty")}</p>`;
}

export function Money({ amount, currency, signed = false }) {
  const negative = amount < 0;
  return html`<span class=${`money${signed ? (negative ? " money-out" : " money-in") : ""}`}>
    ${formatMoney(amount, currency, { signed })}
  </span>`;
}

/**
 * A button. While `busy` it keeps the focus (it is marked aria-disabled, not disabled: a
 * disabled button drops the focus to the page) and ignores presses.
 */
export function Button({ busy = false, variant = "primary", type = "button", children, onClick, ...rest }) {
  const press = (event) => {
    if (busy) {
      event.preventDefault();
      return;
    }
    onClick?.(event);
  };
  return html`<button
    type=${type}
    class=${`button button-${variant}${busy ? " button-busy" : ""}`}
    aria-busy=${busy ? "true" : "false"}
    aria-disabled=${busy ? "true" : undefined}
    ...${rest}
    disabled=${rest.disabled}
    onClick=${press}
  >
    ${busy ? html`<span class="spinner spinner-small" aria-hidden="true"></span>` : null}
    ${children}
  </button>`;
}

let fieldCounter = 0;

/** A labelled input with its hint and its error, tied together for screen readers. */
export function Field({ label, hint, error, id, as = "input", children, ...input }) {
  const generated = useRef(null);
  if (!generated.current) generated.current = `field-${++fieldCounter}`;
  const fieldId = id || generated.current;
  const hintId = hint ? `${fieldId}-hint` : null;
  const errorId = error ? `${fieldId}-error` : null;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  const Tag = as;
  return html`<div class=${`field${error ? " field-invalid" : ""}`}>
    <label for=${fieldId}>${label}</label>
    ${hint ? html`<p class="hint" id=${hintId}>${hint}</p>` : null}
    <${Tag}
      id=${fieldId}
      aria-invalid=${error ? "true" : "false"}
      aria-describedby=${describedBy}
      ...${input}
    >
      ${children}
    </${Tag}>
    ${error ? html`<p class="field-error" id=${errorId}>${fieldMessage(error)}</p>` : null}
  </div>`;
}

/** Previous / next for a paginated list from `usePaged`. */
export function Pager({ list }) {
  if (!list.next && !list.previous) return null;
  const count = list.data?.count || 0;
  const pages = list.pageSize ? Math.max(1, Math.ceil(count / list.pageSize)) : null;
  return html`<nav class="pager" aria-label=${t("common.page", { page: list.page, pages: pages || "?" })}>
    <${Button} variant="secondary" onClick=${list.previous} disabled=${!list.previous}>
      ${t("common.previous")}
    <//>
    <span class="pager-where">
      ${pages ? t("common.page", { page: list.page, pages }) : list.page}
    </span>
    <${Button} variant="secondary" onClick=${list.next} disabled=${!list.next}>
      ${t("common.next")}
    <//>
  </nav>`;
}

/**
 * Tabs (role tablist): `tabs` is [{key, label}], `current` the selected key, and
 * `onSelect(key)` shows another. Arrow keys, Home and End move the focus and the
 * selection. Each tab's id is `${id}-tab-${key}`; it controls the panel `panel` when
 * given (one panel for every tab), else `${id}-panel-${key}`.
 */
export function Tabs({ id, label, tabs, current, onSelect, panel = null, class: extra = "" }) {
  const keys = tabs.map((tab) => tab.key);
  const tabId = (key) => `${id}-tab-${key}`;
  const onKeyDown = (event) => {
    // From the tab that has the focus (the route may not have caught up with a fast key).
    const focused = keys.find((key) => event.target.id === tabId(key)) || current;
    const index = keys.indexOf(focused);
    let next = null;
    if (event.key === "ArrowRight") next = keys[(index + 1) % keys.length];
    else if (event.key === "ArrowLeft") next = keys[(index - 1 + keys.length) % keys.length];
    else if (event.key === "Home") next = keys[0];
    else if (event.key === "End") next = keys[keys.length - 1];
    if (!next) return;
    event.preventDefault();
    document.getElementById(tabId(next))?.focus();
    onSelect(next);
  };
  return html`<div class=${extra ? `tabs ${extra}` : "tabs"} role="tablist" aria-label=${label} onKeyDown=${onKeyDown}>
    ${tabs.map(
      (tab) => html`<button
        type="button"
        role="tab"
        id=${tabId(tab.key)}
        aria-controls=${panel || `${id}-panel-${tab.key}`}
        aria-selected=${tab.key === current ? "true" : "false"}
        tabindex=${tab.key === current ? 0 : -1}
        onClick=${() => tab.key !== current && onSelect(tab.key)}
      >
        ${tab.label}
      </button>`,
    )}
  </div>`;
}

/** A small coloured label for a status: "Paid", "Open"... */
export function Badge({ tone = "neutral", children }) {
  return html`<span class=${`badge badge-${tone}`}>${children}</span>`;
}

/**
 * A button that asks before something that cannot be undone (revoke, pay): the first
 * press shows the question with "confirm" and "cancel" beside it.
 */
export function ConfirmButton({ question, confirmLabel, onConfirm, busy = false, children, variant = "primary" }) {
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef(null);
  const wrapper = useRef(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    // Asking: the focus goes to "confirm"; answered: back to the button that asked (which
    // shows the action as busy), never to the page.
    if (asking) confirmRef.current?.focus();
    else if (wasAsking.current) wrapper.current?.querySelector("button")?.focus();
    wasAsking.current = asking;
  }, [asking]);
  return html`<div class="confirm-wrap" ref=${wrapper}>
    ${asking
      ? html`<div class="confirm" role="group" aria-label=${question}>
          <p>${question}</p>
          <div class="button-row">
            <button
              type="button"
              class=${`button button-${variant === "danger" ? "danger" : "primary"}`}
              ref=${confirmRef}
              onClick=${() => {
                setAsking(false);
                onConfirm();
              }}
            >
              ${confirmLabel}
            </button>
            <${Button} variant="secondary" onClick=${() => setAsking(false)}>${t("common.cancel")}<//>
          </div>
        </div>`
      : html`<${Button} variant=${variant} busy=${busy} onClick=${() => setAsking(true)}>${children}<//>`}
  </div>`;
}
