// The app's only way to the server: the public API under /api/v1/, exactly as a native
// client uses it. Session cookie for who we are, the CSRF token on every unsafe request,
// an Idempotency-Key on every request that moves money or books.

import { rememberCurrencyDecimals } from "./lib/money.js";

const CONFIG = JSON.parse(document.getElementById("app-config").textContent);
export const API_ROOT = CONFIG.api;
export const APP_ROOT = CONFIG.appRoot;
export const SERVICE_WORKER_URL = CONFIG.serviceWorker;
export const ICON_URL = CONFIG.icon;

// The session ended on the server (a 401 from an API call): the app shows the login and
// forgets what it kept for the person who was signed in.
export const SIGNED_OUT_EVENT = "open-sesame:signed-out";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Whether an error is an aborted request (a newer load replaced it): never shown. */
export function isAbort(error) {
  return error?.name === "AbortError";
}

/**
 * A refusal or failure, in the API's problem shape (RFC 9457 with a stable code). `problem`
 * is the whole body, for a refusal's own fields (a limit's `limit` and `period`).
 */
export class ApiError extends Error {
  constructor({ status = 0, code = "network_error", title = "", detail = "", errors = [], problem = {} }) {
    super(detail || title || code);
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
    this.errors = errors;
    this.problem = problem;
  }

  /** The server could not be reached at all (offline, or it is down). */
  get isNetwork() {
    return this.status === 0;
  }

  /**
   * The field errors of a 400, as {field: error}: the field's first error ({field, code,
   * message}), with every error of that field in `all`.
   */
  get fields() {
    const out = {};
    for (const error of this.errors || []) {
      if (!error.field) continue;
      if (!(error.field in out)) out[error.field] = { ...error, all: [] };
      out[error.field].all.push(error);
    }
    return out;
  }
}

let csrfToken = null;

async function csrf() {
  if (csrfToken) return csrfToken;
  const body = await request("auth/csrf");
  csrfToken = body.csrf_token;
  return csrfToken;
}

/** Login and logout rotate the token; the next unsafe request fetches the new one. */
export function forgetCsrfToken() {
  csrfToken = null;
}

function urlFor(path) {
  if (/^https?:\/\//.test(path)) {
    // Pagination links are absolute; follow them on our own origin.
    const url = new URL(path);
    return url.pathname + url.search;
  }
  return path.startsWith("/") ? path : API_ROOT + path;
}

function abortError() {
  return new DOMException("The load was replaced by a newer one", "AbortError");
}

/** The server says how many decimals a currency has (the wallet's `currency_decimals`). */
function learnCurrencies(data) {
  for (const wallet of [data, data?.wallet]) {
    if (wallet && typeof wallet === "object" && wallet.currency) {
      rememberCurrencyDecimals(wallet.currency, wallet.currency_decimals);
    }
  }
}

async function request(path, { method = "GET", body, idempotencyKey, signal } = {}) {
  const headers = { Accept: "application/json" };
  // A form (a file upload) goes as multipart, its boundary set by the browser.
  const form = typeof FormData !== "undefined" && body instanceof FormData;
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  if (UNSAFE.has(method)) headers["X-CSRFToken"] = await csrf();
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(urlFor(path), {
      method,
      headers,
      body: body === undefined || form ? body : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  } catch (error) {
    if (isAbort(error) || signal?.aborted) throw abortError();
    throw new ApiError({ status: 0, code: "network_error" });
  }
  if (response.status === 204) return null;
  let data;
  let readable = true;
  try {
    data = await response.json();
  } catch (error) {
    // A load aborted while its body was read is an abort, never an answer.
    if (isAbort(error) || signal?.aborted) throw abortError();
    readable = false;
  }
  if (response.ok && (!readable || data === null || typeof data !== "object")) {
    // A 2xx whose body is not the JSON object expected (a proxy's HTML page, a cut-off
    // body): a failure, never a successful `null`.
    throw new ApiError({ status: response.status, code: "unreadable_response" });
  }
  if (!response.ok) {
    const problem = readable && data && typeof data === "object" ? data : {};
    if (response.status === 401 && !path.startsWith("auth/")) {
      // The session ended (logged out elsewhere, or expired): the app shows the login.
      window.dispatchEvent(new CustomEvent(SIGNED_OUT_EVENT, { detail: { expired: true } }));
    }
    throw new ApiError({
      status: response.status,
      code: problem.code || `http_${response.status}`,
      title: problem.title || "",
      detail: problem.detail || "",
      errors: Array.isArray(problem.errors) ? problem.errors : [],
      problem,
    });
  }
  learnCurrencies(data);
  return data;
}

/**
 * Call the API. `path` is relative to /api/v1/ ("me/wallet"), or a pagination link.
 * A 403 for a stale CSRF token (after a login elsewhere) is retried once with a new one.
 */
export async function api(path, options = {}) {
  try {
    return await request(path, options);
  } catch (error) {
    const method = options.method || "GET";
    if (
      error instanceof ApiError &&
      error.status === 403 &&
      UNSAFE.has(method) &&
      /csrf/i.test(error.detail)
    ) {
      forgetCsrfToken();
      return request(path, options);
    }
    throw error;
  }
}

/** A fresh Idempotency-Key: one per user action, reused if that action is retried. */
export function newIdempotencyKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Add query parameters to an API path, leaving out empty ones. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

// --- Loads started early -----------------------------------------------------------------

const prefetched = new Map();
// An early load not taken over by then is stale (the citizen went elsewhere first).
const PREFETCH_FRESH_MS = 10_000;

/**
 * Start GET loads now, before the screen that shows them exists (Home's, together with the
 * session check at launch, instead of after it). The screen's `useApi` takes each over.
 */
export function prefetch(paths) {
  for (const path of paths) {
    const load = request(path);
    load.catch(() => undefined); // Whoever takes it over sees the failure.
    prefetched.set(path, { load, at: Date.now() });
  }
}

/** The early load of `path`, once (a later load asks the server again); else null. */
export function takePrefetched(path) {
  const early = prefetched.get(path);
  prefetched.delete(path);
  return early && Date.now() - early.at < PREFETCH_FRESH_MS ? early.load : null;
}

/** Forget the early loads (the session check failed: they are not to be shown). */
export function dropPrefetched() {
  prefetched.clear();
}
