// Help us check the score is fair: why we ask (the fairness check, and nothing else), then
// an age band and a sex, each optional ("Prefer not to say"), to save or withdraw. What is
// volunteered is never used for the score or shown to merchants; withdrawn, it is erased.
import { useState } from "../../vendor/preact-htm.js";

import { api } from "../../api.js";
import { t } from "../../i18n.js";
import { Button, Card, ConfirmButton, ErrorNotice, Field, html, Loaded, notify, Screen, useAction, useApi } from "../../ui.js";

import { AGE_BANDS, formValues, PROMISES, requestBody, SEXES } from "./monitoring-texts.js";
import { formErrors } from "./password.js";
import { BackToAccount } from "./profile.js";

function Choice({ name, label, choices, prefix, value, onChange, error }) {
  return html`<${Field}
    as="select"
    label=${label}
    name=${name}
    value=${value}
    onChange=${(event) => onChange(event.currentTarget.value)}
    error=${error}
  >
    <option value="">${t("monitoring.noAnswer")}</option>
    ${choices.map((each) => html`<option key=${each} value=${each}>${t(`${prefix}.${each}`)}</option>`)}
  <//>`;
}

function AnswersForm({ answers, onChanged }) {
  const [values, setValues] = useState(formValues(answers));
  const save = useAction(async (key, body) => api("me/monitoring", { method: "PUT", body }));
  const withdraw = useAction(async () => api("me/monitoring", { method: "DELETE" }));
  const { fields, general } = formErrors(save.error);
  const kept = Boolean(answers.age_band || answers.sex);
  const set = (name) => (value) => setValues({ ...values, [name]: value });

  const submit = async (event) => {
    event.preventDefault();
    const saved = await save.run(requestBody(values));
    if (!saved) return;
    setValues(formValues(saved));
    onChanged(saved);
    notify(() => t(saved.age_band || saved.sex ? "monitoring.saved" : "monitoring.savedNothing"));
  };
  // useAction resolves undefined on failure and null (a 204) on success.
  const erase = async () => {
    const done = await withdraw.run();
    if (done === undefined) return;
    const nothing = { age_band: null, sex: null };
    setValues(formValues(nothing));
    onChanged(nothing);
    notify(() => t("monitoring.withdrawn"));
  };

  return html`<form class="form" onSubmit=${submit} noValidate>
    <p class=${kept ? "notice notice-ok" : "muted"} role="status">
      ${t(kept ? "monitoring.kept" : "monitoring.none")}
    </p>
    <${ErrorNotice} error=${general} />
    <${Choice}
      name="age_band"
      label=${t("monitoring.ageBand")}
      choices=${AGE_BANDS}
      prefix="monitoring.age"
      value=${values.age_band}
      onChange=${set("age_band")}
      error=${fields.age_band}
    />
    <${Choice}
      name="sex"
      label=${t("monitoring.sex")}
      choices=${SEXES}
      prefix="monitoring.sex"
      value=${values.sex}
      onChange=${set("sex")}
      error=${fields.sex}
    />
    <div class="button-row">
      <${Button} type="submit" busy=${save.busy}>${t("monitoring.save")}<//>
    </div>
    ${kept
      ? html`<${ErrorNotice} error=${withdraw.error} />
          <${ConfirmButton}
            variant="danger"
            question=${t("monitoring.withdrawQuestion")}
            confirmLabel=${t("monitoring.withdrawConfirm")}
            busy=${withdraw.busy}
            onConfirm=${erase}
          >
            ${t("monitoring.withdraw")}
          <//>`
      : null}
  </form>`;
}

export function MonitoringScreen() {
  const answers = useApi("me/monitoring");
  const [current, setCurrent] = useState(null);
  return html`<${Screen} title=${t("monitoring.title")}>
    <${BackToAccount} />
    <p class="lead">${t("monitoring.lead")}</p>
    <${Card} title=${t("monitoring.whyTitle")}>
      <ul class="close-list">
        ${PROMISES.map((key) => html`<li key=${key}>${t(`monitoring.promise.${key}`)}</li>`)}
      </ul>
      <p><a href="#/data">${t("monitoring.dataLink")}</a></p>
    <//>
    <${Card} title=${t("monitoring.formTitle")}>
      <${Loaded} result=${answers}>
        ${(loaded) => html`<${AnswersForm} answers=${current || loaded} onChanged=${setCurrent} />`}
      <//>
    <//>
  <//>`;
}
