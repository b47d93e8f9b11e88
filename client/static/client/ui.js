// Building blocks every screen uses: data loading with its states, actions with their
// idempotency keys, errors as sentences, and the small accessible components.
import { html, useCallback, useEffect, useRef, useState } from "./vendor/preact-htm.js";

import { api, ApiError, newIdempotencyKey } from "./api.js";
import { formatMoney, has, t } from "./i18n.js";

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
 * Load an API path: {data, error, loading, reload}. Loads again when `path` changes;
 * a null path loads nothing.
 */
export function useApi(path) {
  const [state, setState] = useState({ data: null, error: null, loading: Boolean(path) });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (!path) return undefined;
    const controller = new AbortController();
    setState((previous) => ({ ...previous, error: null, loading: true }));
    api(path, { signal: controller.signal }).then(
      (data) => setState({ data, error: null, loading: false }),
      (error) => {
        if (error.name !== "AbortError") setState({ data: null, error, loading: false });
      },
    );
    return () => controller.abort();
  }, [path, generation]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...state, reload };
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
  const data = result.data;
  // The first page is a full page whenever there is a next one: its size is the page size.
  const pageSize = useRef(null);
  if (pageNumber === 1 && data?.next) pageSize.current = data.results.length;
  return {
    ...result,
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

/** Say something briefly (and to screen readers): "Bill paid". */
export function notify(message) {
  for (const listener of noticeListeners) listener(message);
}

export function Notices() {
  const [message, setMessage] = useState("");
  useEffect(() => {
    let timer = null;
    const listener = (text) => {
      setMessage(text);
      clearTimeout(timer);
      timer = setTimeout(() => setMessage(""), 5000);
    };
    noticeListeners.add(listener);
    return () => {
      noticeListeners.delete(listener);
      clearTimeout(timer);
    };
  }, []);
  return html`<div class=${message ? "toast" : "toast toast-hidden"} role="status" aria-live="polite">
    ${message}
  </div>`;
}

// --- Components ------------------------------------------------------------------------

/** A screen: its heading takes the focus when it opens, so screen readers announce it. */
export function Screen({ title, children, actions = null }) {
  const heading = useRef(null);
  useEffect(() => {
    heading.current?.focus({ preventScroll: true });
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

export function Button({ busy = false, variant = "primary", type = "button", children, ...rest }) {
  return html`<button
    type=${type}
    class=${`button button-${variant}`}
    aria-busy=${busy ? "true" : "false"}
    disabled=${busy || rest.disabled}
    ...${rest}
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
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking) {
    return html`<${Button} variant=${variant} busy=${busy} onClick=${() => setAsking(true)}>
      ${children}
    <//>`;
  }
  return html`<div class="confirm" role="group" aria-label=${question}>
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
  </div>`;
}
