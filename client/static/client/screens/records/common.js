// What the records screen's panels share: words by code, dates, a paged list in a card,
// and the dispute form (records and claims).
import { useEffect, useRef, useState } from "../../vendor/preact-htm.js";

import { ApiError } from "../../api.js";
import { formatDate, has, t } from "../../i18n.js";
import { Button, Card, Empty, ErrorNotice, Field, html, Loaded, Pager, useAction } from "../../ui.js";

import "./messages.js";

export const TABS = ["records", "disputes", "claims", "bookings"];

/** A message by code when this app knows it, else the server's own text. */
export function byCode(prefix, code, fallback) {
  return code && has(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : fallback || code || "";
}

export function statusWord(status) {
  return byCode("status", status, status);
}

/** A claim's status (its own words: in Spanish a claim, "cargo", is masculine). */
export function claimStatusWord(status) {
  return byCode("records.claimStatus", status, statusWord(status));
}

/**
 * What a record is about, from its typed description (`description_code` and
 * `description_params`): the merchant's name, and the due date of a bill, in the reader's
 * language. Free text (no code) is shown as it came, marked as English. Never parsed.
 */
export function describeRecord(event) {
  const code = event.description_code;
  const params = event.description_params || {};
  if (code === undefined || code === null) {
    return event.description ? { text: event.description, lang: code === null ? "en" : null } : null;
  }
  const merchant = params.merchant || "";
  switch (code) {
    case "bill":
      return {
        text: params.due_date
          ? `${merchant} · ${t("records.due", { date: formatDate(params.due_date) })}`
          : merchant,
        lang: null,
      };
    case "claim":
    case "claim_refund":
      return { text: merchant, lang: null };
    case "deposit":
      return { text: params.reference ? `${merchant} · ${params.reference}` : merchant, lang: null };
    case "kind_only":
      return null;
    default:
      return event.description ? { text: event.description, lang: "en" } : null;
  }
}

export function fieldErrorsOf(error) {
  return error instanceof ApiError ? error.fields : {};
}

/** The error to show as a sentence: everything but field errors already shown by a field. */
export function generalError(error, shownFields) {
  if (!error) return null;
  if (error instanceof ApiError && error.code === "invalid") {
    const fields = Object.keys(error.fields);
    if (fields.length && fields.every((name) => shownFields.includes(name))) return null;
  }
  return error;
}

export function Dates({ items }) {
  const shown = items.filter(Boolean);
  if (!shown.length) return null;
  return html`<p class="muted records-dates">
    ${shown.map((item, index) => html`${index ? html`<span aria-hidden="true"> · </span>` : null}<span>${item}</span>`)}
  </p>`;
}

/** A paginated list in a card: loading, error with retry, empty, the rows, the pager. */
export function PagedList({ list, empty, label, children }) {
  return html`<${Loaded} result=${list}>
    ${(data) =>
      data.results.length
        ? html`<${Card} class="records-card">
            <ul class="list records-list" aria-label=${label} aria-busy=${list.loading ? "true" : "false"}>
              ${data.results.map(children)}
            </ul>
            <${Pager} list=${list} />
          <//>`
        : html`<${Empty}>${empty}<//>`}
  <//>`;
}

let formCounter = 0;

export function DisputeForm({ label, hint, submitLabel, perform, onDone, onCancel }) {
  const [reason, setReason] = useState("");
  const [missing, setMissing] = useState(false);
  const action = useAction(perform);
  const idRef = useRef(null);
  if (!idRef.current) idRef.current = `records-reason-${++formCounter}`;
  const focusInput = () => document.getElementById(idRef.current)?.focus();
  useEffect(focusInput, []);
  const submit = async (event) => {
    event.preventDefault();
    const text = reason.trim();
    if (!text) {
      setMissing(true);
      focusInput();
      return;
    }
    setMissing(false);
    const result = await action.run(text);
    if (result !== undefined) onDone(result);
  };
  const fields = fieldErrorsOf(action.error);
  const reasonError = missing ? { code: "required" } : fields.reason;
  return html`<form class="form records-form" onSubmit=${submit} noValidate>
    <${ErrorNotice} error=${generalError(action.error, ["reason"])} />
    <${Field}
      as="textarea"
      label=${label}
      hint=${hint}
      name="reason"
      required
      maxlength="2000"
      rows="4"
      value=${reason}
      id=${idRef.current}
      onInput=${(event) => setReason(event.currentTarget.value)}
      error=${reasonError}
    />
    <div class="button-row">
      <${Button} type="submit" busy=${action.busy}>${submitLabel}<//>
      <${Button} variant="secondary" onClick=${onCancel}>${t("common.cancel")}<//>
    </div>
  </form>`;
}
