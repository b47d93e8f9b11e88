// Verify a phone number: the number (E.164) gets a 6-digit code by text message; the right
// code verifies it and raises the identity verification to "phone verified".
import { useState } from "../../vendor/preact-htm.js";

import { api, ApiError } from "../../api.js";
import { formatDateTime, t } from "../../i18n.js";
import { Button, Card, ErrorNotice, Field, html, notify, Screen, useAction } from "../../ui.js";

import "./messages.js";
import { formErrors } from "./password.js";
import { BackToAccount } from "./profile.js";

/** What was typed, as E.164: "+86 138-0013 8000" → "+8613800138000" (spaces and dashes go). */
export function e164(text) {
  return text.replace(/[\s().-]/g, "");
}

/** A number field's error: the server's code when this app has words for it, else the rule. */
function numberError(fields) {
  const field = fields.number;
  if (!field) return null;
  return field.code === "invalid" || field.code === "invalid_phone_number"
    ? { code: "", message: t("phone.numberInvalid") }
    : field;
}

export function PhoneScreen({ me, onProfile }) {
  const [number, setNumber] = useState("");
  const [code, setCode] = useState("");
  const [sent, setSent] = useState(null);
  const [verified, setVerified] = useState(me?.phone_number || null);
  const send = useAction(async (key, value) => api("me/phone", { method: "POST", body: { number: value } }));
  const verify = useAction(async (key, value) => api("me/phone/verify", { method: "POST", body: { code: value } }));

  const askCode = async (event) => {
    event?.preventDefault();
    verify.reset();
    const answer = await send.run(e164(number.trim()));
    if (answer) {
      setSent(answer);
      setCode("");
    }
  };
  const check = async (event) => {
    event.preventDefault();
    const profile = await verify.run(code.trim());
    if (!profile) return;
    setVerified(profile.phone_number);
    setSent(null);
    setNumber("");
    onProfile?.(profile);
    notify(() => t("phone.done", { number: profile.phone_number }));
  };

  const sendErrors = formErrors(send.error);
  const verifyErrors = formErrors(verify.error);
  const wrongCode = verify.error instanceof ApiError && verify.error.code === "code_invalid";

  return html`<${Screen} title=${t("phone.title")}>
    <${BackToAccount} />
    <p class="lead">${t("phone.lead")}</p>
    ${verified ? html`<p class="notice notice-ok">${t("phone.current", { number: verified })}</p>` : null}
    <${Card}>
      ${sent
        ? html`<form class="form" onSubmit=${check} noValidate>
            <p role="status">${t("phone.sent", { number: sent.number, time: formatDateTime(sent.expires_at) })}</p>
            ${wrongCode
              ? html`<p class="notice notice-error" role="alert">${t("phone.codeInvalid")}</p>`
              : html`<${ErrorNotice} error=${verifyErrors.general} />`}
            <${Field}
              label=${t("phone.code")}
              hint=${t("phone.codeHint")}
              name="code"
              inputmode="numeric"
              autocomplete="one-time-code"
              maxlength="6"
              required
              value=${code}
              onInput=${(event) => setCode(event.currentTarget.value)}
              error=${verifyErrors.fields.code ? { code: "", message: t("phone.codeHint") } : null}
            />
            <${Button} type="submit" busy=${verify.busy}>${t("phone.verify")}<//>
            <div class="button-row">
              <${Button} variant="secondary" busy=${send.busy} onClick=${askCode}>${t("phone.again")}<//>
              <${Button} variant="secondary" onClick=${() => setSent(null)}>${t("phone.other")}<//>
            </div>
            <${ErrorNotice} error=${sendErrors.general} />
          </form>`
        : html`<form class="form" onSubmit=${askCode} noValidate>
            <${ErrorNotice} error=${sendErrors.general} />
            <${Field}
              label=${t("phone.number")}
              hint=${t("phone.numberHint")}
              name="number"
              type="tel"
              autocomplete="tel"
              required
              value=${number}
              onInput=${(event) => setNumber(event.currentTarget.value)}
              error=${numberError(sendErrors.fields)}
            />
            <${Button} type="submit" busy=${send.busy}>${t("phone.send")}<//>
          </form>`}
    <//>
  <//>`;
}
