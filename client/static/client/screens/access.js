// Who looked: every read of my score or facts by someone else (a merchant with my consent,
// or Open Sesame support), why, and which facts, newest first.
import { formatDateTime, formatList, formatMoney, formatRelative, has, register, t } from "../i18n.js";
import { FACTS } from "../strings.js";
import { Badge, Card, Empty, html, Loaded, Pager, Screen, usePaged } from "../ui.js";

register({
  en: {
    "access.intro":
      "A merchant can only look at your score or facts with your consent, and every look-up is listed here: who looked, why and what they read.",
    "access.consentsLink": "See and revoke your consents",
    "access.empty": "No one has looked at your score or facts yet.",
    "access.total": { one: "{count} look-up in all", other: "{count} look-ups in all" },
    "access.purpose.deposit_waiver": "{who} looked to decide a deposit waiver of {amount}",
    "access.purpose.support_review": "{who} looked during a support review",
    "access.purpose.other": "{who} looked. Reason given: “{purpose}”",
    "access.kind.merchant": "Merchant",
    "access.kind.staff": "Open Sesame staff",
    "access.read": "Read: {facts}",
    "access.readNothing": "Read nothing but the fact that you have an account.",
    "access.decision": "Decision {id}",
    "access.fact.score": "score",
    "access.fact.band": "score band",
    "access.fact.identity_level": "identity verification",
    "access.fact.account_age_days": "account age",
    "access.fact.on_time_ratio_12m": "bills paid on time (12 months)",
    "access.fact.late_payments_24m": "late payments (24 months)",
    "access.fact.bookings_completed": "bookings completed",
    "access.fact.no_shows_12m": "no-shows (12 months)",
    "access.fact.unpaid_claims": "unpaid claims",
    "access.fact.open_disputes": "open disputes",
  },
  es: {
    "access.intro":
      "Un comercio solo puede consultar tu puntuación o tus datos con tu consentimiento, y cada consulta aparece aquí: quién consultó, por qué y qué leyó.",
    "access.consentsLink": "Ver y revocar tus consentimientos",
    "access.empty": "Nadie ha consultado todavía tu puntuación ni tus datos.",
    "access.total": { one: "{count} consulta en total", other: "{count} consultas en total" },
    "access.purpose.deposit_waiver": "{who} consultó para decidir si te exime de un depósito de {amount}",
    "access.purpose.support_review": "{who} consultó durante una revisión de soporte",
    "access.purpose.other": "{who} consultó. Motivo indicado: «{purpose}»",
    "access.kind.merchant": "Comercio",
    "access.kind.staff": "Personal de Open Sesame",
    "access.read": "Leyó: {facts}",
    "access.readNothing": "No leyó nada salvo que tienes una cuenta.",
    "access.decision": "Decisión {id}",
    "access.fact.score": "puntuación",
    "access.fact.band": "nivel de puntuación",
    "access.fact.identity_level": "verificación de identidad",
    "access.fact.account_age_days": "antigüedad de la cuenta",
    "access.fact.on_time_ratio_12m": "facturas pagadas a tiempo (12 meses)",
    "access.fact.late_payments_24m": "pagos con retraso (24 meses)",
    "access.fact.bookings_completed": "reservas completadas",
    "access.fact.no_shows_12m": "ausencias sin aviso (12 meses)",
    "access.fact.unpaid_claims": "cargos por daños sin pagar",
    "access.fact.open_disputes": "reclamaciones abiertas",
  },
  "zh-Hans": {
    "access.intro": "商户只有在您授权后才能查询您的评分或信息，每一次查询都会列在这里：谁查询了、为什么查询、读取了什么。",
    "access.consentsLink": "查看和撤销您的授权",
    "access.empty": "还没有人查询过您的评分或信息。",
    "access.total": { other: "共 {count} 次查询" },
    "access.purpose.deposit_waiver": "{who} 为决定能否免除 {amount} 押金进行了查询",
    "access.purpose.support_review": "{who} 在客服审核时进行了查询",
    "access.purpose.other": "{who} 进行了查询。给出的原因：“{purpose}”",
    "access.kind.merchant": "商户",
    "access.kind.staff": "Open Sesame 工作人员",
    "access.read": "读取了：{facts}",
    "access.readNothing": "除了您有账户这一点外，没有读取任何信息。",
    "access.decision": "决定编号 {id}",
    "access.fact.score": "评分",
    "access.fact.band": "评分等级",
    "access.fact.identity_level": "身份验证级别",
    "access.fact.account_age_days": "账户时长",
    "access.fact.on_time_ratio_12m": "按时缴费比例（12 个月）",
    "access.fact.late_payments_24m": "逾期付款（24 个月）",
    "access.fact.bookings_completed": "已完成的预订",
    "access.fact.no_shows_12m": "未到店次数（12 个月）",
    "access.fact.unpaid_claims": "未付损坏索赔",
    "access.fact.open_disputes": "未决异议",
  },
});

/**
 * The purpose as a sentence with a `{who}` slot, in the current language, from the entry's
 * typed fields: `purpose_code`, and the `amount` (minor units) and `currency` it was about.
 * The server's English `purpose` is shown only for a purpose this app has no words for.
 */
function purposeSentence(entry) {
  const code = entry.purpose_code;
  if (code === "deposit_waiver" && Number.isInteger(entry.amount) && entry.currency) {
    return t("access.purpose.deposit_waiver", { amount: formatMoney(entry.amount, entry.currency) });
  }
  if (code === "support_review") return t("access.purpose.support_review");
  return t("access.purpose.other", { purpose: entry.purpose });
}

/** A translated sentence with the accessor's name, in bold, where `{who}` stands. */
function withName(sentence, name) {
  const at = sentence.indexOf("{who}");
  if (at < 0) return html`<strong>${name}</strong> ${sentence}`;
  return html`${sentence.slice(0, at)}<strong class="access-who">${name}</strong>${sentence.slice(at + 5)}`;
}

/**
 * A fact's name inside the sentence "Read: …" (lower case, worded for that list): these
 * are this screen's own, not the names "fact.<key>" that head a line elsewhere.
 */
function factName(key) {
  return has(`access.fact.${key}`) ? t(`access.fact.${key}`) : key.replace(/_/g, " ");
}

function factsRead(facts) {
  if (!facts?.length) return t("access.readNothing");
  // In the order the score explains them, whatever order they were read in.
  const ordered = [...facts].sort((a, b) => {
    const rank = (key) => (FACTS.includes(key) ? FACTS.indexOf(key) : FACTS.length);
    return rank(a) - rank(b);
  });
  const names = ordered.map(factName);
  const list = formatList(names);
  return t("access.read", { facts: list });
}

function KindBadge({ kind }) {
  if (!kind) return null;
  const label = has(`access.kind.${kind}`) ? t(`access.kind.${kind}`) : kind;
  return html`<${Badge} tone=${kind === "merchant" ? "neutral" : "warning"}>${label}<//>`;
}

function AccessRow({ entry }) {
  return html`<li class="access-entry">
    <div class="access-head">
      <p class="access-what">${withName(purposeSentence(entry), entry.accessor)}</p>
      <${KindBadge} kind=${entry.accessor_kind} />
    </div>
    <p class="muted">
      <time datetime=${entry.created_at}>
        ${formatDateTime(entry.created_at)} · ${formatRelative(entry.created_at)}
      </time>
    </p>
    <p>${factsRead(entry.facts)}</p>
    ${entry.decision_id
      ? html`<p class="access-decision">${t("access.decision", { id: entry.decision_id })}</p>`
      : null}
  </li>`;
}

export function AccessScreen() {
  const list = usePaged("me/access-log");
  return html`<${Screen} title=${t("nav.access")}>
    <p class="lead">${t("access.intro")}</p>
    <p><a href="#/consents">${t("access.consentsLink")}</a></p>
    <${Card}>
      <${Loaded} result=${list}>
        ${(data) =>
          data.results.length
            ? html`<p class="muted">${t("access.total", { count: data.count })}</p>
                <ul class="list" aria-busy=${list.loading ? "true" : "false"}>
                  ${data.results.map((entry) => html`<${AccessRow} key=${entry.id} entry=${entry} />`)}
                </ul>
                <${Pager} list=${list} />`
            : html`<${Empty}>${t("access.empty")}<//>`}
      <//>
    <//>
  <//>`;
}
