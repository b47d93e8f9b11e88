// Close the account: what is erased at once, what must be kept (under a pseudonym), why and
// for how long, what must be settled first; then the password, and a last question. A
// refusal lists what still keeps the account open, each in words with where to settle it.
import { useState } from "../../vendor/preact-htm.js";

import { api, ApiError } from "../../api.js";
import { t } from "../../i18n.js";
import { Card, ConfirmButton, ErrorNotice, Field, html, notify, Screen, useAction } from "../../ui.js";

import "./messages.js";
import { formErrors, ShowPassword } from "./password.js";
import { BackToAccount } from "./profile.js";
import { obligationLines } from "./texts.js";

const ERASED = ["profile", "login", "consents", "documents", "monitoring"];
const KEPT = ["ledger", "decisions", "accessLog", "records"];

function Obligations({ error }) {
  const lines = obligationLines(error.problem?.obligations);
  return html`<div class="notice notice-error" role="alert">
    <p>${t("close.blocked")}</p>
    <ul class="close-obligations">
      ${lines.map(
        (line) => html`<li key=${line.code}>
          ${line.text}${line.href ? html` <a href=${line.href}>${line.fix}</a>` : null}
        </li>`,
      )}
    </ul>
  </div>`;
}

export function CloseScreen({ onSignedOut }) {
  const [password, setPassword] = useState("");
  const [shown, setShown] = useState(false);
  const close = useAction(async (key, value) => api("me/close", { method: "POST", body: { password: value } }));
  const { fields, general } = formErrors(close.error);
  const blocked = close.error instanceof ApiError && close.error.code === "account_has_obligations";

  const confirm = async () => {
    const closed = await close.run(password);
    if (!closed) return;
    notify(() => t("close.done"));
    onSignedOut?.();
  };

  return html`<${Screen} title=${t("close.title")}>
    <${BackToAccount} />
    <p class="lead">${t("close.lead")}</p>
    <${Card} title=${t("close.erasedTitle")}>
      <ul class="close-list">
        ${ERASED.map((key) => html`<li key=${key}>${t(`close.erased.${key}`)}</li>`)}
      </ul>
    <//>
    <${Card} title=${t("close.keptTitle")}>
      <p>${t("close.keptLead")}</p>
      <ul class="close-list">
        ${KEPT.map((key) => html`<li key=${key}>${t(`close.kept.${key}`)}</li>`)}
      </ul>
    <//>
    <${Card} title=${t("close.beforeTitle")}>
      <p>${t("close.before")}</p>
      <p><a href="#/data">${t("close.dataLink")}</a></p>
    <//>
    <${Card} title=${t("close.title")}>
      <form class="form" onSubmit=${(event) => event.preventDefault()} noValidate>
        ${blocked ? html`<${Obligations} error=${close.error} />` : html`<${ErrorNotice} error=${general} />`}
        <${Field}
          label=${t("close.password")}
          hint=${t("close.passwordHint")}
          name="password"
          type=${shown ? "text" : "password"}
          autocomplete="current-password"
          required
          value=${password}
          onInput=${(event) => setPassword(event.currentTarget.value)}
          error=${fields.password}
        />
        <${ShowPassword} shown=${shown} onChange=${setShown} />
        <${ConfirmButton}
          variant="danger"
          question=${t("close.question")}
          confirmLabel=${t("close.submit")}
          busy=${close.busy}
          onConfirm=${confirm}
        >
          ${t("close.submit")}
        <//>
      </form>
    <//>
  <//>`;
}
