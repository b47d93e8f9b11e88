// Consents: which merchants may ask about me, for what, until when; revoke one. Live
// consents first, then the past ones (revoked or expired), each with its date.
import { useCallback, useState } from "../vendor/preact-htm.js";

import { api } from "../api.js";
import { formatDate, formatDateTime, has, register, t } from "../i18n.js";
import {
  Badge,
  Button,
  Card,
  ConfirmButton,
  Empty,
  ErrorNotice,
  html,
  Loaded,
  notify,
  Screen,
  useAction,
  useAllPages,
} from "../ui.js";

import { limitsSentence } from "./limits.js";

register({
  en: {
    "consents.intro":
      "A consent lets one merchant ask about you, or bill you, for one purpose: a deposit waiver for a stay, or bills until you revoke it. You can revoke it at any time.",
    "consents.active": "Active",
    "consents.past": "Past consents",
    "consents.noneActive": "No merchant can ask about you right now.",
    "consents.emptyTitle": "No consents yet",
    "consents.empty":
      "A consent is made when you show a merchant a one-time code and they use it. It then appears here, and you can revoke it at any time.",
    "consents.makeCode": "Show a one-time code",
    "consents.again": "To let a merchant ask about you again, show them a new one-time code.",
    "consents.revokeNote":
      "Revoking stops that merchant's future look-ups and cancels your bookings with it that have not started yet, releasing their deposits. Stays already started and bills already sent stand.",
    "consents.does.deposit_waiver":
      "Lets them ask whether your deposit can be waived. They get a yes or no, never your score.",
    "consents.does.billing": "Lets them send you bills, within the limits you set.",
    "consents.granted": "Given {date}",
    "consents.revokedOn": "Revoked on {date}",
    "consents.expiredOn": "Expired on {date}",
    "consents.status.active": "Active",
    "consents.status.revoked": "Revoked",
    "consents.status.expired": "Expired",
    "consents.revoke": "Revoke",
    "consents.revokeQuestion": "Stop {merchant} from asking about you?",
    "consents.revokeConfirm": "Revoke now",
    "consents.revoked": "{merchant} can no longer ask about you.",
    "consents.showMore": { one: "Show {count} more", other: "Show {count} more" },
    "consents.untilRevoked": "until you revoke it",
    "consents.renewed": "Renewed {date}",
    "consents.readText": "Read what you agreed to",
  },
  es: {
    "consents.intro":
      "Un consentimiento permite que un comercio consulte sobre ti, o te facture, para un fin concreto: una exención de depósito para una estancia, o facturas hasta que lo revoques. Puedes revocarlo cuando quieras.",
    "consents.active": "Activos",
    "consents.past": "Consentimientos anteriores",
    "consents.noneActive": "Ahora mismo ningún comercio puede consultar sobre ti.",
    "consents.emptyTitle": "Aún no hay consentimientos",
    "consents.empty":
      "Se crea un consentimiento cuando muestras a un comercio un código de un solo uso y este lo utiliza. Entonces aparece aquí y puedes revocarlo cuando quieras.",
    "consents.makeCode": "Mostrar un código de un solo uso",
    "consents.again":
      "Para que un comercio pueda volver a consultar sobre ti, muéstrale un nuevo código de un solo uso.",
    "consents.revokeNote":
      "Revocar impide que ese comercio vuelva a consultar sobre ti y anula tus reservas con él que aún no han empezado, liberando sus depósitos. Las estancias ya empezadas y las facturas ya enviadas se mantienen.",
    "consents.does.deposit_waiver":
      "Le permite preguntar si puedes quedar exento del depósito. Recibe un sí o un no, nunca tu puntuación.",
    "consents.does.billing": "Le permite enviarte facturas, dentro de los límites que pusiste.",
    "consents.granted": "Otorgado el {date}",
    "consents.revokedOn": "Revocado el {date}",
    "consents.expiredOn": "Caducó el {date}",
    "consents.status.active": "Activo",
    "consents.status.revoked": "Revocado",
    "consents.status.expired": "Caducado",
    "consents.revoke": "Revocar",
    "consents.revokeQuestion": "¿Impedir que {merchant} consulte sobre ti?",
    "consents.revokeConfirm": "Revocar ahora",
    "consents.revoked": "{merchant} ya no puede consultar sobre ti.",
    "consents.showMore": { one: "Mostrar {count} más", other: "Mostrar {count} más" },
    "consents.untilRevoked": "hasta que lo revoques",
    "consents.renewed": "Renovado el {date}",
    "consents.readText": "Leer lo que aceptaste",
  },
  "zh-Hans": {
    "consents.intro": "授权允许某一商户为某一用途查询您的信息或向您发送账单：为一次入住免押金，或在您撤销前发送账单。您可以随时撤销。",
    "consents.active": "有效",
    "consents.past": "过往授权",
    "consents.noneActive": "目前没有商户可以查询您的信息。",
    "consents.emptyTitle": "还没有授权",
    "consents.empty":
      "当您向商户出示一次性码并被商户使用后，就会产生一项授权。授权会显示在这里，您可以随时撤销。",
    "consents.makeCode": "出示一次性码",
    "consents.again": "如需再次允许商户查询您的信息，请向其出示新的一次性码。",
    "consents.revokeNote": "撤销后，该商户今后将无法再查询您的信息，您在该商户尚未开始的预订将被取消，押金随之释放；已开始的入住和已发出的账单不受影响。",
    "consents.does.deposit_waiver": "允许其询问能否免除您的押金。对方只会得到“是”或“否”，绝不会看到您的评分。",
    "consents.does.billing": "允许其在您设置的限额内向您发送账单。",
    "consents.granted": "授权于 {date}",
    "consents.revokedOn": "已于 {date} 撤销",
    "consents.expiredOn": "已于 {date} 过期",
    "consents.status.active": "有效",
    "consents.status.revoked": "已撤销",
    "consents.status.expired": "已过期",
    "consents.revoke": "撤销",
    "consents.revokeQuestion": "不再允许{merchant}查询您的信息？",
    "consents.revokeConfirm": "立即撤销",
    "consents.revoked": "{merchant}已无法再查询您的信息。",
    "consents.showMore": { other: "再显示 {count} 项" },
    "consents.untilRevoked": "直至您撤销",
    "consents.renewed": "续期于 {date}",
    "consents.readText": "查看您同意的内容",
  },
});

const PAST_STEP = 10;

// Every consent, all pages followed: live ones must come first, and a live consent may be on
// any page of a list ordered by when it was given.
const ALL_CONSENTS = "me/consents?page_size=100";
const MAX_PAGES = 50;

function scopeName(scope) {
  return has(`scope.${scope}`) ? t(`scope.${scope}`) : scope;
}

function categoryName(category) {
  return has(`category.${category}`) ? t(`category.${category}`) : category;
}

/** The exact text the citizen was shown when making the code, with its version. */
function ConsentText({ consent }) {
  if (!consent.text) return null;
  return html`<details class="consent-details">
    <summary>${t("consents.readText")}</summary>
    <p class="consent-text" lang=${consent.language || undefined}>${consent.text}</p>
    ${consent.text_version ? html`<p class="muted">${t("limits.version", { version: consent.text_version })}</p>` : null}
  </details>`;
}

/** When a past consent ended: the revocation, else the expiry. */
function endedAt(consent) {
  return consent.revoked_at || consent.expires_at || consent.granted_at;
}

function Status({ consent }) {
  if (consent.is_live) return html`<${Badge} tone="ok">${t("consents.status.active")}<//>`;
  if (consent.revoked_at) return html`<${Badge} tone="neutral">${t("consents.status.revoked")}<//>`;
  return html`<${Badge} tone="neutral">${t("consents.status.expired")}<//>`;
}

function When({ value, children }) {
  return html`<time datetime=${value} title=${formatDateTime(value)}>${children}</time>`;
}

function ConsentRow({ consent, onChanged }) {
  const name = consent.merchant.name;
  const revoke = useAction(
    useCallback(
      (idempotencyKey) =>
        api(`me/consents/${consent.id}/revoke`, { method: "POST", idempotencyKey }),
      [consent.id],
    ),
  );
  const doRevoke = async () => {
    const result = await revoke.run();
    if (result) {
      notify(() => t("consents.revoked", { merchant: name }));
      onChanged();
    }
  };
  const does = has(`consents.does.${consent.scope}`) ? t(`consents.does.${consent.scope}`) : null;
  return html`<li class=${`consent${consent.is_live ? "" : " consent-past"}`}>
    <div class="consent-head">
      <h3>${name}</h3>
      <${Status} consent=${consent} />
    </div>
    <p class="muted">${categoryName(consent.merchant.category)} · ${scopeName(consent.scope)}</p>
    ${does ? html`<p>${does}</p>` : null}
    ${consent.scope === "billing" && limitsSentence(consent)
      ? html`<p class="consent-limits">${limitsSentence(consent)}</p>`
      : null}
    ${consent.is_live
      ? null
      : html`<p class="consent-ended">
          <${When} value=${endedAt(consent)}>
            ${t(consent.revoked_at ? "consents.revokedOn" : "consents.expiredOn", {
              date: formatDate(endedAt(consent)),
            })}
          <//>
        </p>`}
    <p class="muted">
      <${When} value=${consent.granted_at}>
        ${t("consents.granted", { date: formatDate(consent.granted_at) })}
      <//>
      ${consent.renewed_at
        ? html` · <${When} value=${consent.renewed_at}>
              ${t("consents.renewed", { date: formatDate(consent.renewed_at) })}
            <//>`
        : null}
      ${consent.is_live && consent.expires_at
        ? html` · <${When} value=${consent.expires_at}>
              ${t("common.until", { date: formatDate(consent.expires_at) })}
            <//>`
        : null}
      ${consent.is_live && !consent.expires_at ? ` · ${t("consents.untilRevoked")}` : null}
    </p>
    <${ConsentText} consent=${consent} />
    ${consent.is_live
      ? html`<div class="consent-actions">
          <${ErrorNotice} error=${revoke.error} />
          <${ConfirmButton}
            variant="danger"
            busy=${revoke.busy}
            question=${t("consents.revokeQuestion", { merchant: name })}
            confirmLabel=${t("consents.revokeConfirm")}
            onConfirm=${doRevoke}
          >
            ${t("consents.revoke")}
          <//>
        </div>`
      : null}
  </li>`;
}

function ActiveCard({ consents, onChanged }) {
  return html`<${Card} title=${t("consents.active")}>
    ${consents.length
      ? html`<p class="muted">${t("consents.revokeNote")}</p>
          <ul class="list">
            ${consents.map(
              (consent) =>
                html`<${ConsentRow} key=${consent.id} consent=${consent} onChanged=${onChanged} />`,
            )}
          </ul>`
      : html`<${Empty}>${t("consents.noneActive")}<//>
          <p>${t("consents.again")} <a href="#/credit">${t("consents.makeCode")}</a></p>`}
  <//>`;
}

function PastCard({ consents, onChanged }) {
  const [shown, setShown] = useState(PAST_STEP);
  if (!consents.length) return null;
  const rest = consents.length - shown;
  return html`<${Card} title=${t("consents.past")}>
    <ul class="list">
      ${consents.slice(0, shown).map(
        (consent) => html`<${ConsentRow} key=${consent.id} consent=${consent} onChanged=${onChanged} />`,
      )}
    </ul>
    ${rest > 0
      ? html`<${Button} variant="secondary" onClick=${() => setShown((n) => n + PAST_STEP)}>
          ${t("consents.showMore", { count: Math.min(rest, PAST_STEP) })}
        <//>`
      : null}
  <//>`;
}

function Consents({ consents, onChanged }) {
  if (!consents.length) {
    return html`<${Card} title=${t("consents.emptyTitle")}>
      <p>${t("consents.empty")}</p>
      <a class="button button-primary" href="#/credit">${t("consents.makeCode")}</a>
    <//>`;
  }
  const live = consents.filter((consent) => consent.is_live);
  const past = consents
    .filter((consent) => !consent.is_live)
    .sort((a, b) => new Date(endedAt(b)) - new Date(endedAt(a)));
  return html`<${ActiveCard} consents=${live} onChanged=${onChanged} />
    <${PastCard} consents=${past} onChanged=${onChanged} />`;
}

export function ConsentsScreen() {
  const consents = useAllPages(ALL_CONSENTS, { maxPages: MAX_PAGES });
  return html`<${Screen} title=${t("nav.consents")}>
    <p class="lead">${t("consents.intro")}</p>
    <${Loaded} result=${consents}>
      ${(rows) => html`<${Consents} consents=${rows} onChanged=${consents.reload} />`}
    <//>
  <//>`;
}
