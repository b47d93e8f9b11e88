// What if? A simulator that asks the server and saves nothing.
import { useCallback, useEffect, useState } from "../../vendor/preact-htm.js";

import { api } from "../../api.js";
import { formatNumber, t } from "../../i18n.js";
import { Button, Card, ErrorNotice, Field, html } from "../../ui.js";

import { ReasonList } from "./reasons.js";
import { factValue, identityName } from "./texts.js";

const START = { bills: 0, bookings: 0, claims: 0 };

/** The simulation of `changes` (debounced; a newer change aborts the older request). */
function useSimulation(changes) {
  const [state, setState] = useState({ result: null, error: null, busy: false });
  const [generation, setGeneration] = useState(0);
  const body = JSON.stringify(changes);
  useEffect(() => {
    if (body === "{}") {
      setState({ result: null, error: null, busy: false });
      return undefined;
    }
    const controller = new AbortController();
    setState((previous) => ({ ...previous, error: null, busy: true }));
    const timer = setTimeout(() => {
      api("me/score/simulate", {
        method: "POST",
        body: { changes: JSON.parse(body) },
        signal: controller.signal,
      }).then(
        (result) => setState({ result, error: null, busy: false }),
        (error) => {
          if (error.name !== "AbortError") setState({ result: null, error, busy: false });
        },
      );
    }, 300);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [body, generation]);
  const retry = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...state, retry };
}

function Slider({ id, label, value, max, unit, onChange, error }) {
  const text = t(unit, { count: value });
  const errorId = error ? `${id}-error` : undefined;
  return html`<div class=${`field sim-slider${error ? " field-invalid" : ""}`}>
    <div class="sim-slider-head">
      <label for=${id}>${label}</label>
      <output for=${id} class="sim-slider-value" aria-hidden="true">${text}</output>
    </div>
    <input
      id=${id}
      type="range"
      min="0"
      max=${max}
      step="1"
      value=${value}
      aria-valuetext=${text}
      aria-invalid=${error ? "true" : "false"}
      aria-describedby=${errorId}
      onInput=${(event) => onChange(Number(event.currentTarget.value))}
    />
    ${error ? html`<p class="field-error" id=${errorId}>${t("score.sim.invalid")}</p>` : null}
  </div>`;
}

function SimResult({ simulation, score = null }) {
  const { result, error, busy } = simulation;
  if (error) {
    return html`<${ErrorNotice}
      error=${error}
      onRetry=${error.status === 400 ? null : simulation.retry}
    />`;
  }
  if (!result) {
    return html`<p class="sim-idle muted">${busy ? t("score.sim.busy") : t("score.sim.idle")}</p>`;
  }
  const delta = result.delta;
  const deltaText =
    delta === 0
      ? t("score.sim.same")
      : t(delta > 0 ? "score.sim.up" : "score.sim.down", { count: Math.abs(delta) });
  return html`<div class=${`sim-result${busy ? " sim-stale" : ""}`} aria-busy=${busy ? "true" : "false"}>
    <p class="sim-label">${t("score.sim.result")}</p>
    <div class="sim-score-row">
      <span class=${`sim-score band-text-${result.band}`}>${formatNumber(result.score)}</span>
      <span class=${`sim-band sim-band-${result.band}`}>${t(`band.${result.band}`)}</span>
    </div>
    <p class=${`sim-delta ${delta > 0 ? "change-up" : delta < 0 ? "change-down" : ""}`}>
      <span aria-hidden="true">${delta > 0 ? "▲ " : delta < 0 ? "▼ " : ""}</span>${deltaText}
    </p>
    <p class="muted sim-today">${t("score.sim.today", { score: formatNumber(result.current_score) })}</p>
    <h3 class="sim-reasons-title">${t("score.sim.reasons")}</h3>
    ${result.reasons.length
      ? html`<${ReasonList} reasons=${result.reasons} score=${score} />`
      : html`<p class="notice notice-ok">${t("score.sim.reasonsNone")}</p>`}
    <p class="sim-note">${t("score.sim.note")}</p>
  </div>`;
}

export function WhatIf({ score, me }) {
  const identityNow = factValue(score, "identity_level", me?.identity_level ?? 0);
  const unpaidClaims = factValue(score, "unpaid_claims", 0);
  const [values, setValues] = useState({ ...START, identity: identityNow });
  useEffect(() => setValues((v) => ({ ...v, identity: Math.max(v.identity, identityNow) })), [identityNow]);
  const set = (name) => (value) => setValues((v) => ({ ...v, [name]: value }));
  const changes = {};
  if (values.bills > 0) changes.pay_next_bills_on_time = values.bills;
  if (values.bookings > 0) changes.complete_next_bookings = values.bookings;
  if (unpaidClaims > 0 && values.claims > 0) changes.settle_unpaid_claims = Math.min(values.claims, unpaidClaims);
  if (values.identity !== identityNow) changes.identity_level = values.identity;
  const simulation = useSimulation(changes);
  const fields = simulation.error?.status === 400 ? simulation.error.fields : {};
  const fieldError = (key) => fields[`changes.${key}`] || fields[key] || null;
  const changed = Object.keys(changes).length > 0;
  const levels = [0, 1, 2].filter((level) => level >= identityNow);
  return html`<${Card} title=${t("score.whatIf")} class="score-whatif">
    <p class="sim-lead">${t("score.whatIfLead")}</p>
    <form class="form sim-form" onSubmit=${(event) => event.preventDefault()}>
      <${Slider}
        id="sim-bills"
        label=${t("score.sim.bills")}
        value=${values.bills}
        max=${12}
        unit="score.sim.billsValue"
        onChange=${set("bills")}
        error=${fieldError("pay_next_bills_on_time")}
      />
      <${Slider}
        id="sim-bookings"
        label=${t("score.sim.bookings")}
        value=${values.bookings}
        max=${10}
        unit="score.sim.bookingsValue"
        onChange=${set("bookings")}
        error=${fieldError("complete_next_bookings")}
      />
      ${unpaidClaims > 0
        ? html`<${Slider}
            id="sim-claims"
            label=${t("score.sim.claims")}
            value=${Math.min(values.claims, unpaidClaims)}
            max=${unpaidClaims}
            unit="score.sim.claimsValue"
            onChange=${set("claims")}
            error=${fieldError("settle_unpaid_claims")}
          />`
        : null}
      ${levels.length > 1
        ? html`<${Field}
            as="select"
            id="sim-identity"
            label=${t("score.sim.identity")}
            value=${String(values.identity)}
            error=${fieldError("identity_level")}
            onChange=${(event) => set("identity")(Number(event.currentTarget.value))}
          >
            ${levels.map((level) => html`<option value=${String(level)}>${identityName(level)}</option>`)}
          <//>`
        : html`<p class="muted sim-identity-done">${t("score.sim.identityDone")}</p>`}
      <div class="button-row">
        <${Button}
          variant="secondary"
          disabled=${!changed}
          onClick=${() => {
            setValues({ ...START, identity: identityNow });
            document.getElementById("sim-bills")?.focus();
          }}
        >
          ${t("score.sim.reset")}
        <//>
      </div>
    </form>
    <div class="sim-output" role="status" aria-live="polite">
      <${SimResult} simulation=${simulation} score=${score} />
    </div>
  <//>`;
}
