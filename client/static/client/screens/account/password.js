// Change password: the current one, then the new one. The server ends every other session
// and app token of the account; this one stays signed in.
import { useState } from "../../vendor/preact-htm.js";

import { api, ApiError } from "../../api.js";
import { t } from "../../i18n.js";
import { Button, Card, ErrorNotice, Field, html, notify, Screen, useAction } from "../../ui.js";

import "./messages.js";
import { BackToAccount } from "./profile.js";

/** The field errors of a refused form, and the refusal itself when it is not about a field. */
export function formErrors(error) {
  const fields = error instanceof ApiError ? error.fields : {};
  const general = error && !(error instanceof ApiError && error.code === "invalid") ? error : null;
  return { fields, general };
}

/** "Show password", for the password fields of a form. */
export function ShowPassword({ shown, onChange }) {
  return html`<label class="check">
    <input type="checkbox" checked=${shown} onChange=${(event) => onChange(event.currentTarget.checked)} />
    ${t("auth.showPassword")}
  </label>`;
}

export function PasswordScreen() {
  const [values, setValues] = useState({ old_password: "", new_password: "" });
  const [shown, setShown] = useState(false);
  const change = useAction(async (key, body) => api("auth/password", { method: "POST", body }));
  const set = (name) => (event) => setValues({ ...values, [name]: event.currentTarget.value });
  const { fields, general } = formErrors(change.error);

  // useAction resolves undefined on failure and null (a 204) on success: tell them apart.
  const send = async (event) => {
    event.preventDefault();
    const result = await change.run(values);
    if (result === undefined) return;
    setValues({ old_password: "", new_password: "" });
    notify(() => t("password.done"));
  };

  return html`<${Screen} title=${t("password.title")}>
    <${BackToAccount} />
    <p class="lead">${t("password.lead")}</p>
    <${Card}>
      <form class="form" onSubmit=${send} noValidate>
        <${ErrorNotice} error=${general} />
        <${Field}
          label=${t("password.old")}
          name="old_password"
          type=${shown ? "text" : "password"}
          autocomplete="current-password"
          required
          value=${values.old_password}
          onInput=${set("old_password")}
          error=${fields.old_password}
        />
        <${Field}
          label=${t("password.new")}
          hint=${t("auth.passwordHint")}
          name="new_password"
          type=${shown ? "text" : "password"}
          autocomplete="new-password"
          required
          value=${values.new_password}
          onInput=${set("new_password")}
          error=${fields.new_password}
        />
        <${ShowPassword} shown=${shown} onChange=${setShown} />
        <${Button} type="submit" busy=${change.busy}>${t("password.submit")}<//>
      </form>
    <//>
  <//>`;
}
