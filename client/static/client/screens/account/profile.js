// Account and security: the profile (name, e-mail address and whether it is verified, a
// new verification link), and the way to every other account screen.
import { useState } from "../../vendor/preact-htm.js";

import { api, ApiError } from "../../api.js";
import { t } from "../../i18n.js";
import { Badge, Button, Card, ErrorNotice, Field, html, Loaded, notify, Screen, useAction, useApi } from "../../ui.js";

import "./messages.js";
import { levelName } from "./texts.js";

/** A link back to Account and security, above each of its screens. */
export function BackToAccount() {
  return html`<p class="back-link"><a href="#/account">← ${t("account.back")}</a></p>`;
}

function ProfileForm({ me, onProfile }) {
  const [values, setValues] = useState({ display_name: me.display_name || "", email: me.email || "" });
  const save = useAction(async (key, body) => api("me", { method: "PATCH", body }));
  const resend = useAction(async () => api("me", { method: "PATCH", body: { email: me.email } }));
  const set = (name) => (event) => setValues({ ...values, [name]: event.currentTarget.value });
  const fields = save.error instanceof ApiError ? save.error.fields : {};
  const general = save.error && !(save.error instanceof ApiError && save.error.code === "invalid") ? save.error : null;

  const submit = async (event) => {
    event.preventDefault();
    // The address only when it changed: the same unverified one again would send the
    // link again (that is "Send the link again").
    const email = values.email.trim();
    const body = { display_name: values.display_name.trim(), ...(email !== (me.email || "") ? { email } : {}) };
    const updated = await save.run(body);
    if (!updated) return;
    setValues({ display_name: updated.display_name || "", email: updated.email || "" });
    onProfile?.(updated);
    notify(() => t("account.saved"));
  };
  const sendAgain = async () => {
    const updated = await resend.run();
    if (!updated) return;
    onProfile?.(updated);
    const email = updated.email;
    notify(() => t("account.resent", { email }));
  };

  return html`<form class="form" onSubmit=${submit} noValidate>
    <p class="account-username">${t("account.username")}: <strong>${me.username}</strong></p>
    <${ErrorNotice} error=${general} />
    <${Field}
      label=${t("account.displayName")}
      hint=${t("account.displayNameHint")}
      name="display_name"
      autocomplete="name"
      value=${values.display_name}
      onInput=${set("display_name")}
      error=${fields.display_name}
    />
    <${Field}
      label=${t("account.email")}
      hint=${t("account.emailHint")}
      name="email"
      type="email"
      autocomplete="email"
      autocapitalize="none"
      spellcheck="false"
      value=${values.email}
      onInput=${set("email")}
      error=${fields.email}
    />
    <div class="account-email-state">
      ${me.email
        ? html`<${Badge} tone=${me.email_verified ? "ok" : "warning"}>
            ${t(me.email_verified ? "account.emailVerified" : "account.emailUnverified")}
          <//>`
        : html`<p class="muted">${t("account.emailNone")}</p>`}
    </div>
    ${me.email && !me.email_verified
      ? html`<div class="notice">
          <p>${t("account.emailPending", { email: me.email })}</p>
          <${ErrorNotice} error=${resend.error} />
          <${Button} variant="secondary" busy=${resend.busy} onClick=${sendAgain}>${t("account.resend")}<//>
        </div>`
      : null}
    <${Button} type="submit" busy=${save.busy}>${t("common.save")}<//>
  </form>`;
}

const PLACES = ["password", "devices", "phone", "identity", "monitoring", "close"];

function placeText(place, me) {
  if (place === "phone" && me.phone_number) return t("account.go.phoneDone", { number: me.phone_number });
  return t(`account.go.${place}Text`);
}

export function AccountScreen({ onProfile }) {
  const profile = useApi("me");
  const changed = (me) => {
    profile.reload();
    onProfile?.(me);
  };
  return html`<${Screen} title=${t("nav.account")}>
    <p class="lead">${t("account.lead")}</p>
    <${Loaded} result=${profile}>
      ${(me) => html`
        <${Card} title=${t("account.profile")}>
          <${ProfileForm} key=${`${me.email}|${me.email_verified}`} me=${me} onProfile=${changed} />
        <//>
        <${Card} title=${t("account.security")}>
          <p>${t("account.identity")}: <strong>${levelName(me.identity_level)}</strong></p>
          <ul class="menu menu-flat">
            ${PLACES.map(
              (place) => html`<li key=${place}>
                <a href=${`#/${place}`} class="menu-item">
                  <span class="menu-title">${t(`account.go.${place}`)}</span>
                  <span class="menu-text">${placeText(place, me)}</span>
                </a>
              </li>`,
            )}
          </ul>
        <//>
      `}
    <//>
  <//>`;
}
