// The app's only way to the server: the public API under /api/v1/, exactly as a native
// client uses it. Session cookie for who we are, the CSRF token on every unsafe request,
// an Idempotency-Key on every request that moves money or books.

const CONFIG = JSON.parse(document.getElementById("app-config").textContent);
export const API_ROOT = CONFIG.api;
export const APP_ROOT = CONFIG.appRoot;
export const SERVICE_WORKER_URL = CONFIG.serviceWorker;
export const ICON_URL = CONFIG.icon;

export const SIGNED_OUT_EVENT = "open-sesame:signed-out";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** A refusal or failure, in the API's problem shape (RFC 9457 with a stable code). */
export class ApiError extends Error {
  constructor({ status = 0, code = "network_error", title = "", detail = "", errors = [] }) {
    super(detail || title || code);
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
    this.errors = errors;
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

async function request(path, { method = "GET", body, idempotencyKey, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (UNSAFE.has(method)) headers["X-CSRFToken"] = await csrf();
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(urlFor(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError({ status: 0, code: "network_error" });
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const problem = data && typeof data === "object" ? data : {};
    if (response.status === 401 && !path.startsWith("auth/")) {
      // The session ended (logged out elsewhere, or expired): the app shows the login.
      window.dispatchEvent(new CustomEvent(SIGNED_OUT_EVENT));
    }
    throw new ApiError({
      status: response.status,
      code: problem.code || `http_${response.status}`,
      title: problem.title || "",
      detail: problem.detail || "",
      errors: Array.isArray(problem.errors) ? problem.errors : [],
    });
  }
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
