// Home: the score on its dial, how it moved, when it was computed; the money available;
// shortcuts to what people come to do. Offline, the last score seen, with its time.
import { useEffect } from "../vendor/preact-htm.js";

import { ScoreDial } from "../dial.js";
import { formatDateTime, formatMoney, formatRelative, register, t } from "../i18n.js";
import { lastScore, rememberScore } from "../offline.js";
import { Button, Card, html, Loaded, Money, Screen, useApi } from "../ui.js";

register({
  en: {
    "home.title": "Home",
    "home.hello": "Hello, {name}",
    "home.score": "Your score",
    "home.up": { one: "Up {count} point since your last score", other: "Up {count} points since your last score" },
    "home.down": { one: "Down {count} point since your last score", other: "Down {count} points since your last score" },
    "home.same": "No change since your last score",
    "home.first": "This is your first score.",
    "home.computed": "Computed {when}",
    "home.why": "See why",
    "home.available": "Available to spend",
    "home.openBills": { one: "{count} bill to pay", other: "{count} bills to pay" },
    "home.noBills": "No bills to pay",
    "home.shortcuts": "Shortcuts",
    "home.topUp": "Top up",
    "home.payBills": "Pay bills",
    "home.useCredit": "Show my code",
    "home.perks": "Perks for me",
    "home.whoLooked": "Who looked",
    "home.records": "My records",
    "home.toAnswer": { one: "A damage claim to answer", other: "{count} damage claims to answer" },
    "home.claim": "{merchant} claims {amount}: answer by {date}",
    "home.answer": "Answer",
    "home.offlineTitle": "You are offline",
    "home.offlineNoScore": "This phone has not seen your score yet. Connect to the internet to see it.",
  },
  es: {
    "home.title": "Inicio",
    "home.hello": "Hola, {name}",
    "home.score": "Tu puntuación",
    "home.up": { one: "Sube {count} punto desde tu última puntuación", other: "Sube {count} puntos desde tu última puntuación" },
    "home.down": { one: "Baja {count} punto desde tu última puntuación", other: "Baja {count} puntos desde tu última puntuación" },
    "home.same": "Sin cambios desde tu última puntuación",
    "home.first": "Es tu primera puntuación.",
    "home.computed": "Calculada {when}",
    "home.why": "Ver por qué",
    "home.available": "Disponible para gastar",
    "home.openBills": { one: "{count} factura por pagar", other: "{count} facturas por pagar" },
    "home.noBills": "No hay facturas por pagar",
    "home.shortcuts": "Accesos directos",
    "home.topUp": "Recargar",
    "home.payBills": "Pagar facturas",
    "home.useCredit": "Mostrar mi código",
    "home.perks": "Mis ventajas",
    "home.whoLooked": "Quién consultó",
    "home.records": "Mis registros",
    "home.toAnswer": { one: "Un cargo por daños que responder", other: "{count} cargos por daños que responder" },
    "home.claim": "{merchant} reclama {amount}: responde antes del {date}",
    "home.answer": "Responder",
    "home.offlineTitle": "Estás sin conexión",
    "home.offlineNoScore": "Este teléfono aún no ha visto tu puntuación. Conéctate a internet para verla.",
  },
  "zh-Hans": {
    "home.title": "首页",
    "home.hello": "{name}，您好",
    "home.score": "您的评分",
    "home.up": { other: "比上次评分提高 {count} 分" },
    "home.down": { other: "比上次评分降低 {count} 分" },
    "home.same": "与上次评分相同",
    "home.first": "这是您的第一个评分。",
    "home.computed": "计算于{when}",
    "home.why": "查看原因",
    "home.available": "可用余额",
    "home.openBills": { other: "{count} 张账单待支付" },
    "home.noBills": "没有待支付的账单",
    "home.shortcuts": "快捷入口",
    "home.topUp": "充值",
    "home.payBills": "支付账单",
    "home.useCredit": "出示我的码",
    "home.perks": "我的优惠",
    "home.whoLooked": "查询记录",
    "home.records": "我的记录",
    "home.toAnswer": { other: "{count} 项损坏索赔待您答复" },
    "home.claim": "{merchant}索赔 {amount}：请在 {date} 前答复",
    "home.answer": "答复",
    "home.offlineTitle": "您已离线",
    "home.offlineNoScore": "本机还没有看到过您的评分，请联网后查看。",
  },
});

function Change({ score }) {
  if (score.previous_score === null || score.previous_score === undefined) {
    return html`<p class="change">${t("home.first")}</p>`;
  }
  const delta = score.score - score.previous_score;
  if (delta === 0) return html`<p class="change">${t("home.same")}</p>`;
  const key = delta > 0 ? "home.up" : "home.down";
  return html`<p class=${`change ${delta > 0 ? "change-up" : "change-down"}`}>
    <span aria-hidden="true">${delta > 0 ? "▲" : "▼"} </span>${t(key, { count: Math.abs(delta) })}
  </p>`;
}

function ScoreCard({ score, navigate }) {
  return html`<${Card} title=${t("home.score")} class="score-card">
    <${ScoreDial} score=${score.score} band=${score.band} />
    <${Change} score=${score} />
    <p class="muted">
      <time datetime=${score.computed_at} title=${formatDateTime(score.computed_at)}>
        ${t("home.computed", { when: formatRelative(score.computed_at) })}
      </time>
    </p>
    <${Button} variant="secondary" onClick=${() => navigate("score")}>${t("home.why")}<//>
  <//>`;
}

// What Home shows, loaded at launch together with the session check (see app.js).
const SCORE = "me/score";
const WALLET = "me/wallet";
const OPEN_BILLS = "me/bills?status=open&page_size=1"; // only its count is shown
// The newest claims: one awaiting an answer is at most days old, so on the first page.
const CLAIMS = "me/claims";
export const HOME_LOADS = [SCORE, WALLET, OPEN_BILLS, CLAIMS];

const SHORTCUTS = [
  ["wallet", "home.topUp"],
  ["bills", "home.payBills"],
  ["credit", "home.useCredit"],
  ["perks", "home.perks"],
  ["access", "home.whoLooked"],
  ["records", "home.records"],
];

/** Damage claims waiting for the citizen's answer: something to do, at the top of Home. */
function ClaimsToAnswer({ claims }) {
  const waiting = claims.filter((claim) => claim.status === "awaiting_guest");
  if (!waiting.length) return null;
  return html`<${Card} title=${t("home.toAnswer", { count: waiting.length })} class="to-answer">
    <ul class="list">
      ${waiting.map(
        (claim) => html`<li key=${claim.id} class="row">
          <span>
            ${t("home.claim", {
              merchant: claim.merchant?.name || "",
              amount: formatMoney(claim.amount, claim.currency),
              date: formatDateTime(claim.respond_by),
            })}
          </span>
          <a class="button button-primary" href=${`#/records?tab=claims&claim=${encodeURIComponent(claim.id)}`}>
            ${t("home.answer")}
          </a>
        </li>`,
      )}
    </ul>
  <//>`;
}

export function HomeScreen({ me, navigate }) {
  const score = useApi(SCORE);
  const wallet = useApi(WALLET);
  const bills = useApi(OPEN_BILLS);
  const claims = useApi(CLAIMS);
  useEffect(() => {
    if (score.data) rememberScore(me.username, score.data);
  }, [score.data, me.username]);
  return html`<${Screen} title=${t("home.hello", { name: me.display_name || me.username })}>
    ${claims.data ? html`<${ClaimsToAnswer} claims=${claims.data.results || []} />` : null}
    <${Loaded} result=${score}>${(data) => html`<${ScoreCard} score=${data} navigate=${navigate} />`}<//>
    <${Card} title=${t("home.available")} class="balance-card">
      <${Loaded} result=${wallet}>
        ${(data) => html`<p class="big-money"><${Money} amount=${data.available} currency=${data.currency} /></p>`}
      <//>
      <${Loaded} result=${bills}>
        ${(data) => html`<p>
          <a href="#/bills">${data.count ? t("home.openBills", { count: data.count }) : t("home.noBills")}</a>
        </p>`}
      <//>
    <//>
    <nav aria-label=${t("home.shortcuts")} class="shortcuts">
      ${SHORTCUTS.map(([route, key]) => html`<a class="shortcut" href=${`#/${route}`}>${t(key)}</a>`)}
    </nav>
  <//>`;
}

/**
 * Started without a network: the last score this phone saw, clearly dated, and only if it
 * is the score of whoever was signed in here last.
 */
export function OfflineHome({ username, onRetry }) {
  const kept = lastScore(username);
  return html`<${Screen} title=${t("home.offlineTitle")}>
    ${kept
      ? html`<${Card} title=${t("home.score")} class="score-card score-card-offline">
          <p class="banner" role="status">
            ${t("app.offlineScore", { when: formatDateTime(kept.computed_at) })}
          </p>
          <${ScoreDial} score=${kept.score} band=${kept.band} />
          <p class="muted">
            <time datetime=${kept.computed_at}>${t("home.computed", { when: formatRelative(kept.computed_at) })}</time>
          </p>
        <//>`
      : html`<p class="notice">${t("home.offlineNoScore")}</p>`}
    <${Button} onClick=${onRetry}>${t("common.retry")}<//>
  <//>`;
}
