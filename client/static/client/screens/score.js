// My score: the score on its dial, what makes it up (each factor's points against its
// most), what holds it back (reasons with tips), how it moved (an SVG chart with a table
// beside it), and a what-if simulator that asks the server and saves nothing.
import { useCallback, useEffect, useMemo, useState } from "../vendor/preact-htm.js";

import { api, withQuery } from "../api.js";
import { BANDS, SCORE_MAX, SCORE_MIN, ScoreDial } from "../dial.js";
import { formatDate, formatDateTime, formatNumber, formatRelative, has, register, t } from "../i18n.js";
import { Badge, Button, Card, Empty, ErrorNotice, Field, html, Loaded, Screen, useAllPages, useApi } from "../ui.js";

register({
  en: {
    "score.version": "Scorecard version {version}",
    "score.computed": "Computed {when}",
    "score.up": { one: "Up {count} point since your last score", other: "Up {count} points since your last score" },
    "score.down": { one: "Down {count} point since your last score", other: "Down {count} points since your last score" },
    "score.same": "No change since your last score",
    "score.first": "This is your first score.",

    "score.factors": "What makes up your score",
    "score.factorsLead": "Each part of your record earns points. A full bar is full marks.",
    "score.points": "{points} of {max} points",
    "score.fullMarks": "Full marks",
    "score.negative": "Takes points off",
    // A factor without words of its own here is named by its fact ("fact.<key>").
    "score.factor.on_time_payments": "Bills paid on time (12 months)",
    "score.factor.late_payments": "Late payments (24 months)",
    "score.factor.bookings_completed": "Bookings completed (24 months)",
    "score.factor.no_shows": "No-shows (12 months)",
    "score.factor.unpaid_claims": "Unpaid claims",
    "score.value.none": "No history yet",
    "score.value.onTime": "{percent} paid on time",
    "score.value.late": { one: "{count} late payment", other: "{count} late payments" },
    "score.value.lateNone": "No late payments",
    "score.value.bookings": { one: "{count} booking completed", other: "{count} bookings completed" },
    "score.value.bookingsNone": "No completed bookings yet",
    "score.value.noShows": { one: "{count} no-show", other: "{count} no-shows" },
    "score.value.noShowsNone": "No no-shows",
    "score.value.claims": { one: "{count} unpaid claim", other: "{count} unpaid claims" },
    "score.value.claimsNone": "No unpaid claims",
    "score.value.age": { one: "Open for {count} day", other: "Open for {count} days" },
    "score.identity.0": "Not verified",
    "score.identity.1": "Phone verified",
    "score.identity.2": "Identity document verified",

    "score.reasons": "What holds it back",
    "score.reasonsNone": "Nothing is holding your score back right now. Well done.",
    "score.lost": { one: "{count} point lost", other: "{count} points lost" },
    "score.reason.on_time_payments": "Not all of your recent bills were paid on time",
    "score.tip.on_time_payments": "Pay each bill by its due date; your on-time share counts the last 12 months.",
    "score.reason.late_payments": "You have late payments in the last 24 months",
    "score.tip.late_payments": "Each late payment stops counting 24 months after it; paying on time from now on keeps new ones away.",
    "score.reason.bookings_completed": "Few completed bookings so far",
    "score.tip.bookings_completed": "Stays and rentals you complete without a problem add to your score.",
    "score.reason.no_shows": "You missed a booking in the last 12 months",
    "score.tip.no_shows": "Cancel a booking you cannot keep; a no-show stops counting after 12 months.",
    "score.reason.unpaid_claims": "You have an unpaid damage claim",
    "score.tip.unpaid_claims": "Pay the claim from your wallet, or dispute it if it is wrong; a disputed claim does not count while it is reviewed.",
    "score.reason.account_age": "Your account is new",
    "score.tip.account_age": "This grows by itself: points at 3 months and at 1, 2 and 3 years.",
    "score.reason.identity": "Your identity is not fully verified",
    "score.tip.identity": "Verify your phone, then an identity document, in the app.",
    "score.reason.thin_file": "Your credit history is short",
    "score.tip.thin_file": "Pay your bills through Open Sesame by their due date and complete your bookings: each commitment you keep builds your history.",

    "score.history": "History",
    "score.historyEmpty": "Your score has no history yet.",
    "score.historyShown": "Your latest {count} scores.",
    "score.chartLabel": "Score chart from {from} to {to}: first {first}, latest {last}, lowest {min}, highest {max}.",
    "score.chartOne": "Score chart with one score: {score} on {date}.",
    "score.table": "Show the scores as a table",
    "score.col.date": "Date",
    "score.col.score": "Score",
    "score.col.band": "Band",
    "score.col.trigger": "Why",
    "score.trigger.event": "A new record",
    "score.trigger.batch": "Regular update",
    "score.trigger.manual": "Recomputed by staff",
    "score.trigger.scorecard_activation": "New scorecard",
    "score.trigger.initial": "First score",

    "score.whatIf": "What if?",
    "score.whatIfLead": "Try what would change your score. This is only a simulation: nothing is saved and nothing in your record changes.",
    "score.sim.bills": "Pay my next bills on time",
    "score.sim.billsValue": { one: "{count} bill", other: "{count} bills" },
    "score.sim.bookings": "Complete my next bookings",
    "score.sim.bookingsValue": { one: "{count} booking", other: "{count} bookings" },
    "score.sim.claims": "Settle my unpaid claims",
    "score.sim.claimsValue": { one: "{count} claim", other: "{count} claims" },
    "score.sim.identity": "Verify my identity",
    "score.sim.identityDone": "Your identity is already fully verified.",
    "score.sim.reset": "Reset",
    "score.sim.idle": "Move a control to see what your score could be.",
    "score.sim.busy": "Working it out…",
    "score.sim.result": "Simulated score",
    "score.sim.today": "Today: {score}",
    "score.sim.up": { one: "{count} point more than today", other: "{count} points more than today" },
    "score.sim.down": { one: "{count} point less than today", other: "{count} points less than today" },
    "score.sim.same": "The same as today",
    "score.sim.reasons": "What would still hold it back",
    "score.sim.reasonsNone": "Nothing would hold it back.",
    "score.sim.note": "Simulation only. Nothing was saved.",
    "score.sim.invalid": "The server did not accept one of these values. Reset and try again.",
  },
  es: {
    "score.version": "Versión {version} del modelo de puntuación",
    "score.computed": "Calculada {when}",
    "score.up": { one: "Sube {count} punto desde tu última puntuación", other: "Sube {count} puntos desde tu última puntuación" },
    "score.down": { one: "Baja {count} punto desde tu última puntuación", other: "Baja {count} puntos desde tu última puntuación" },
    "score.same": "Sin cambios desde tu última puntuación",
    "score.first": "Es tu primera puntuación.",

    "score.factors": "De qué se compone tu puntuación",
    "score.factorsLead": "Cada parte de tu historial suma puntos. Una barra llena es la máxima puntuación.",
    "score.points": "{points} de {max} puntos",
    "score.fullMarks": "Máximo",
    "score.negative": "Resta puntos",
    "score.factor.on_time_payments": "Facturas pagadas a tiempo (12 meses)",
    "score.factor.late_payments": "Pagos atrasados (24 meses)",
    "score.factor.bookings_completed": "Reservas completadas (24 meses)",
    "score.factor.no_shows": "No presentado (12 meses)",
    "score.factor.unpaid_claims": "Cargos por daños sin pagar",
    "score.value.none": "Aún sin historial",
    "score.value.onTime": "{percent} pagado a tiempo",
    "score.value.late": { one: "{count} pago atrasado", other: "{count} pagos atrasados" },
    "score.value.lateNone": "Ningún pago atrasado",
    "score.value.bookings": { one: "{count} reserva completada", other: "{count} reservas completadas" },
    "score.value.bookingsNone": "Aún ninguna reserva completada",
    "score.value.noShows": { one: "{count} vez sin presentarte", other: "{count} veces sin presentarte" },
    "score.value.noShowsNone": "Siempre te has presentado",
    "score.value.claims": { one: "{count} cargo sin pagar", other: "{count} cargos sin pagar" },
    "score.value.claimsNone": "Ningún cargo sin pagar",
    "score.value.age": { one: "Abierta hace {count} día", other: "Abierta hace {count} días" },
    "score.identity.0": "Sin verificar",
    "score.identity.1": "Teléfono verificado",
    "score.identity.2": "Documento de identidad verificado",

    "score.reasons": "Qué la frena",
    "score.reasonsNone": "Ahora mismo nada frena tu puntuación. ¡Enhorabuena!",
    "score.lost": { one: "{count} punto menos", other: "{count} puntos menos" },
    "score.reason.on_time_payments": "No todas tus facturas recientes se pagaron a tiempo",
    "score.tip.on_time_payments": "Paga cada factura antes de su vencimiento; tu porcentaje de pagos puntuales cuenta los últimos 12 meses.",
    "score.reason.late_payments": "Tienes pagos atrasados en los últimos 24 meses",
    "score.tip.late_payments": "Cada pago atrasado deja de contar 24 meses después; si pagas a tiempo a partir de ahora, no habrá otros nuevos.",
    "score.reason.bookings_completed": "Aún tienes pocas reservas completadas",
    "score.tip.bookings_completed": "Las estancias y los alquileres que completas sin problemas suman a tu puntuación.",
    "score.reason.no_shows": "No te presentaste a una reserva en los últimos 12 meses",
    "score.tip.no_shows": "Cancela las reservas que no puedas cumplir; no presentarte deja de contar a los 12 meses.",
    "score.reason.unpaid_claims": "Tienes un cargo por daños sin pagar",
    "score.tip.unpaid_claims": "Paga el cargo desde tu monedero o reclámalo si es incorrecto; un cargo reclamado no cuenta mientras se revisa.",
    "score.reason.account_age": "Tu cuenta es nueva",
    "score.tip.account_age": "Esto mejora solo: sumas puntos a los 3 meses y al cumplir 1, 2 y 3 años.",
    "score.reason.identity": "Tu identidad no está totalmente verificada",
    "score.tip.identity": "Verifica tu teléfono y después un documento de identidad en la app.",
    "score.reason.thin_file": "Tu historial crediticio es corto",
    "score.tip.thin_file": "Paga tus facturas con Open Sesame antes de su vencimiento y completa tus reservas: cada compromiso que cumples construye tu historial.",

    "score.history": "Historial",
    "score.historyEmpty": "Tu puntuación aún no tiene historial.",
    "score.historyShown": "Tus últimas {count} puntuaciones.",
    "score.chartLabel": "Gráfico de puntuación del {from} al {to}: primera {first}, última {last}, mínima {min}, máxima {max}.",
    "score.chartOne": "Gráfico con una sola puntuación: {score} el {date}.",
    "score.table": "Ver las puntuaciones en una tabla",
    "score.col.date": "Fecha",
    "score.col.score": "Puntuación",
    "score.col.band": "Nivel",
    "score.col.trigger": "Motivo",
    "score.trigger.event": "Un nuevo registro",
    "score.trigger.batch": "Actualización periódica",
    "score.trigger.manual": "Recalculada por el personal",
    "score.trigger.scorecard_activation": "Nuevo modelo de puntuación",
    "score.trigger.initial": "Primera puntuación",

    "score.whatIf": "¿Y si…?",
    "score.whatIfLead": "Prueba qué cambiaría tu puntuación. Es solo una simulación: no se guarda nada y tu historial no cambia.",
    "score.sim.bills": "Pagar a tiempo mis próximas facturas",
    "score.sim.billsValue": { one: "{count} factura", other: "{count} facturas" },
    "score.sim.bookings": "Completar mis próximas reservas",
    "score.sim.bookingsValue": { one: "{count} reserva", other: "{count} reservas" },
    "score.sim.claims": "Pagar mis cargos pendientes",
    "score.sim.claimsValue": { one: "{count} cargo", other: "{count} cargos" },
    "score.sim.identity": "Verificar mi identidad",
    "score.sim.identityDone": "Tu identidad ya está totalmente verificada.",
    "score.sim.reset": "Restablecer",
    "score.sim.idle": "Mueve un control para ver cuál podría ser tu puntuación.",
    "score.sim.busy": "Calculando…",
    "score.sim.result": "Puntuación simulada",
    "score.sim.today": "Hoy: {score}",
    "score.sim.up": { one: "{count} punto más que hoy", other: "{count} puntos más que hoy" },
    "score.sim.down": { one: "{count} punto menos que hoy", other: "{count} puntos menos que hoy" },
    "score.sim.same": "Igual que hoy",
    "score.sim.reasons": "Qué la seguiría frenando",
    "score.sim.reasonsNone": "Nada la frenaría.",
    "score.sim.note": "Solo es una simulación. No se ha guardado nada.",
    "score.sim.invalid": "El servidor no aceptó uno de estos valores. Restablece e inténtalo de nuevo.",
  },
  "zh-Hans": {
    "score.version": "评分卡第 {version} 版",
    "score.computed": "{when}计算",
    "score.up": { other: "比上次评分提高 {count} 分" },
    "score.down": { other: "比上次评分降低 {count} 分" },
    "score.same": "与上次评分相同",
    "score.first": "这是您的第一个评分。",

    "score.factors": "评分由哪些部分组成",
    "score.factorsLead": "您记录中的每一部分都会得分。进度条满格即为满分。",
    "score.points": "{points} / {max} 分",
    "score.fullMarks": "满分",
    "score.negative": "扣分项",
    "score.factor.on_time_payments": "按时支付账单（12 个月）",
    "score.factor.late_payments": "逾期付款（24 个月）",
    "score.factor.bookings_completed": "已完成的预订（24 个月）",
    "score.factor.no_shows": "未入住（12 个月）",
    "score.factor.unpaid_claims": "未付损坏索赔",
    "score.value.none": "暂无记录",
    "score.value.onTime": "{percent} 按时支付",
    "score.value.late": { other: "{count} 次逾期付款" },
    "score.value.lateNone": "没有逾期付款",
    "score.value.bookings": { other: "已完成 {count} 次预订" },
    "score.value.bookingsNone": "还没有已完成的预订",
    "score.value.noShows": { other: "{count} 次未入住" },
    "score.value.noShowsNone": "没有未入住记录",
    "score.value.claims": { other: "{count} 笔未付索赔" },
    "score.value.claimsNone": "没有未付索赔",
    "score.value.age": { other: "已开户 {count} 天" },
    "score.identity.0": "未验证",
    "score.identity.1": "已验证手机号",
    "score.identity.2": "已验证身份证件",

    "score.reasons": "哪些因素拉低了评分",
    "score.reasonsNone": "目前没有拉低您评分的因素，继续保持！",
    "score.lost": { other: "扣 {count} 分" },
    "score.reason.on_time_payments": "近期账单并未全部按时支付",
    "score.tip.on_time_payments": "请在到期日前支付每张账单；按时支付比例按最近 12 个月计算。",
    "score.reason.late_payments": "最近 24 个月内有逾期付款",
    "score.tip.late_payments": "每笔逾期付款在 24 个月后不再计入；从现在起按时支付，就不会产生新的逾期。",
    "score.reason.bookings_completed": "已完成的预订还不多",
    "score.tip.bookings_completed": "顺利完成的住宿和租赁都会为您加分。",
    "score.reason.no_shows": "最近 12 个月内有预订未入住",
    "score.tip.no_shows": "无法履约的预订请及时取消；未入住记录在 12 个月后不再计入。",
    "score.reason.unpaid_claims": "您有一笔未付的损坏索赔",
    "score.tip.unpaid_claims": "请用钱包支付该索赔；如有错误可提出异议，异议审核期间该索赔不计入评分。",
    "score.reason.account_age": "您的账户还很新",
    "score.tip.account_age": "这会自然增长：满 3 个月以及满 1、2、3 年时都会加分。",
    "score.reason.identity": "您的身份尚未完全验证",
    "score.tip.identity": "请在应用中先验证手机号，再验证身份证件。",
    "score.reason.thin_file": "您的信用记录还很短",
    "score.tip.thin_file": "通过 Open Sesame 在到期日前支付账单并完成预订：每一次守约都会积累您的记录。",

    "score.history": "历史",
    "score.historyEmpty": "您的评分还没有历史记录。",
    "score.historyShown": "最近 {count} 次评分。",
    "score.chartLabel": "评分走势图，{from} 至 {to}：首次 {first}，最新 {last}，最低 {min}，最高 {max}。",
    "score.chartOne": "评分走势图，仅一次评分：{date} 为 {score}。",
    "score.table": "以表格查看评分",
    "score.col.date": "日期",
    "score.col.score": "评分",
    "score.col.band": "等级",
    "score.col.trigger": "原因",
    "score.trigger.event": "新的记录",
    "score.trigger.batch": "定期更新",
    "score.trigger.manual": "工作人员重新计算",
    "score.trigger.scorecard_activation": "新版评分卡",
    "score.trigger.initial": "首次评分",

    "score.whatIf": "如果……会怎样？",
    "score.whatIfLead": "试试哪些做法会改变您的评分。这只是模拟：不会保存任何内容，您的记录也不会改变。",
    "score.sim.bills": "按时支付接下来的账单",
    "score.sim.billsValue": { other: "{count} 张账单" },
    "score.sim.bookings": "完成接下来的预订",
    "score.sim.bookingsValue": { other: "{count} 次预订" },
    "score.sim.claims": "结清未付索赔",
    "score.sim.claimsValue": { other: "{count} 笔索赔" },
    "score.sim.identity": "验证我的身份",
    "score.sim.identityDone": "您的身份已完全验证。",
    "score.sim.reset": "重置",
    "score.sim.idle": "调整任一选项，看看您的评分可能是多少。",
    "score.sim.busy": "正在计算…",
    "score.sim.result": "模拟评分",
    "score.sim.today": "今天：{score}",
    "score.sim.up": { other: "比今天高 {count} 分" },
    "score.sim.down": { other: "比今天低 {count} 分" },
    "score.sim.same": "与今天相同",
    "score.sim.reasons": "仍会拉低评分的因素",
    "score.sim.reasonsNone": "没有会拉低评分的因素。",
    "score.sim.note": "仅为模拟，未保存任何内容。",
    "score.sim.invalid": "服务器不接受其中某个数值。请重置后重试。",
  },
});

// --- Texts by code, with the server's English as the fallback ---------------------------

/**
 * A factor's name: this screen's own words for the factor when it has them, else the
 * name of the fact it scores (the same words everywhere), else the server's.
 */
function factorLabel(factor) {
  for (const key of [`score.factor.${factor.key}`, `fact.${factor.fact}`]) {
    if (has(key)) return t(key);
  }
  return factor.label;
}

function reasonTexts(reason) {
  const label = `score.reason.${reason.code}`;
  const tip = `score.tip.${reason.code}`;
  return {
    label: has(label) ? t(label) : reason.label,
    tip: has(tip) ? t(tip) : reason.tip,
  };
}

function identityName(level) {
  const key = `score.identity.${level}`;
  return has(key) ? t(key) : formatNumber(level);
}

/** A factor's value in words, by the fact it scores (null: no history yet). */
function factorValue(factor) {
  const value = factor.value;
  if (value === null || value === undefined) return t("score.value.none");
  const count = (some, none) => (value === 0 ? t(none) : t(some, { count: value }));
  switch (factor.fact) {
    case "on_time_ratio_12m":
      return t("score.value.onTime", { percent: formatNumber(value / 100, { style: "percent" }) });
    case "late_payments_24m":
      return count("score.value.late", "score.value.lateNone");
    case "bookings_completed":
      return count("score.value.bookings", "score.value.bookingsNone");
    case "no_shows_12m":
      return count("score.value.noShows", "score.value.noShowsNone");
    case "unpaid_claims":
      return count("score.value.claims", "score.value.claimsNone");
    case "account_age_days":
      return t("score.value.age", { count: value });
    case "identity_level":
      return identityName(value);
    default:
      return formatNumber(value);
  }
}

function factValue(score, fact, fallback) {
  const factor = score.factors.find((f) => f.fact === fact);
  return factor && factor.value !== null && factor.value !== undefined ? factor.value : fallback;
}

// --- The score ----------------------------------------------------------------------------

function Change({ score }) {
  if (score.previous_score === null || score.previous_score === undefined) {
    return html`<p class="change">${t("score.first")}</p>`;
  }
  const delta = score.score - score.previous_score;
  if (delta === 0) return html`<p class="change">${t("score.same")}</p>`;
  return html`<p class=${`change ${delta > 0 ? "change-up" : "change-down"}`}>
    <span aria-hidden="true">${delta > 0 ? "▲" : "▼"} </span>
    ${t(delta > 0 ? "score.up" : "score.down", { count: Math.abs(delta) })}
  </p>`;
}

function Summary({ score }) {
  return html`<div class="card score-card score-summary">
    <${ScoreDial} score=${score.score} band=${score.band} size=${180} />
    <${Change} score=${score} />
    <p class="muted score-meta">
      <time datetime=${score.computed_at} title=${formatDateTime(score.computed_at)}>
        ${t("score.computed", { when: formatRelative(score.computed_at) })}
      </time>
      <span aria-hidden="true"> · </span>
      <span>${t("score.version", { version: score.scorecard_version })}</span>
    </p>
  </div>`;
}

// --- Factors --------------------------------------------------------------------------------

function FactorBar({ factor }) {
  const max = Math.max(factor.max_points, 0);
  const share = max > 0 ? Math.min(1, Math.max(0, factor.points) / max) : 0;
  const full = factor.points >= factor.max_points;
  const tone = full ? "full" : factor.points < 0 ? "negative" : share >= 0.5 ? "half" : "low";
  return html`<li class="factor">
    <div class="factor-head">
      <span class="factor-name">${factorLabel(factor)}</span>
      ${full
        ? html`<${Badge} tone="ok">${t("score.fullMarks")}<//>`
        : factor.points < 0
          ? html`<${Badge} tone="danger">${t("score.negative")}<//>`
          : null}
    </div>
    <div class=${`factor-bar factor-bar-${tone}`} aria-hidden="true">
      <span style=${`width:${(share * 100).toFixed(1)}%`}></span>
    </div>
    <div class="factor-foot">
      <span class="factor-value">${factorValue(factor)}</span>
      <span class="factor-points">
        ${t("score.points", { points: formatNumber(factor.points), max: formatNumber(factor.max_points) })}
      </span>
    </div>
  </li>`;
}

function Factors({ score }) {
  return html`<${Card} title=${t("score.factors")} class="score-factors">
    <p class="muted">${t("score.factorsLead")}</p>
    <ul class="list factor-list">
      ${score.factors.map((factor) => html`<${FactorBar} key=${factor.key} factor=${factor} />`)}
    </ul>
  <//>`;
}

// --- Reasons --------------------------------------------------------------------------------

function ReasonList({ reasons }) {
  return html`<ul class="list reason-list">
    ${reasons.map((reason) => {
      const { label, tip } = reasonTexts(reason);
      return html`<li class="reason" key=${reason.code}>
        <div class="reason-head">
          <p class="reason-label">${label}</p>
          <span class="reason-lost">${t("score.lost", { count: reason.points_lost })}</span>
        </div>
        ${tip ? html`<p class="reason-tip">${tip}</p>` : null}
      </li>`;
    })}
  </ul>`;
}

function Reasons({ score }) {
  return html`<${Card} title=${t("score.reasons")} class="score-reasons">
    ${score.reasons.length
      ? html`<${ReasonList} reasons=${score.reasons} />`
      : html`<p class="notice notice-ok">${t("score.reasonsNone")}</p>`}
  <//>`;
}

// --- History ----------------------------------------------------------------------------------

// The latest HISTORY_LIMIT snapshots at most, newest first.
const HISTORY = withQuery("me/score/history", { page_size: 30 });
const HISTORY_LIMIT = 60;

const CHART = { width: 340, height: 200, left: 38, right: 12, top: 10, bottom: 30 };
const shortDate = (value) => formatDate(value, { month: "short", year: "numeric" });

function scaleFor(points) {
  const scores = points.map((p) => p.score);
  const min = Math.min(...scores);
  const max = Math.max(...scores);
  let low = Math.max(SCORE_MIN, Math.floor((min - 30) / 50) * 50);
  let high = Math.min(SCORE_MAX, Math.ceil((max + 30) / 50) * 50);
  while (high - low < 150) {
    if (low > SCORE_MIN) low -= 50;
    if (high - low < 150 && high < SCORE_MAX) high += 50;
  }
  const times = points.map((p) => new Date(p.computed_at).getTime());
  const first = Math.min(...times);
  const last = Math.max(...times);
  const plotW = CHART.width - CHART.left - CHART.right;
  const plotH = CHART.height - CHART.top - CHART.bottom;
  return {
    low,
    high,
    min,
    max,
    x: (time) => (last === first ? CHART.left + plotW / 2 : CHART.left + ((time - first) / (last - first)) * plotW),
    y: (score) => CHART.top + ((high - score) / (high - low)) * plotH,
  };
}

function Chart({ points }) {
  // Oldest first, left to right.
  const ordered = useMemo(
    () => [...points].sort((a, b) => new Date(a.computed_at) - new Date(b.computed_at)),
    [points],
  );
  const scale = scaleFor(ordered);
  const first = ordered[0];
  const last = ordered[ordered.length - 1];
  const label =
    ordered.length === 1
      ? t("score.chartOne", { score: first.score, date: formatDate(first.computed_at) })
      : t("score.chartLabel", {
          from: formatDate(first.computed_at),
          to: formatDate(last.computed_at),
          first: first.score,
          last: last.score,
          min: scale.min,
          max: scale.max,
        });
  const right = CHART.width - CHART.right;
  const bottom = CHART.height - CHART.bottom;
  const step = scale.high - scale.low > 300 ? 100 : 50;
  const ticks = [];
  for (let value = Math.ceil(scale.low / step) * step; value <= scale.high; value += step) ticks.push(value);
  const bands = BANDS.map((band, index) => {
    const to = index + 1 < BANDS.length ? BANDS[index + 1].from : SCORE_MAX;
    const from = Math.max(band.from, scale.low);
    const top = Math.min(to, scale.high);
    return { code: band.code, from, to: top };
  }).filter((band) => band.to > band.from);
  const coords = ordered.map((p) => [scale.x(new Date(p.computed_at).getTime()), scale.y(p.score)]);
  const line = coords.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`).join(" ");
  const xLabels =
    ordered.length === 1
      ? [{ x: coords[0][0], anchor: "middle", text: shortDate(first.computed_at) }]
      : [
          { x: CHART.left, anchor: "start", text: shortDate(first.computed_at) },
          { x: right, anchor: "end", text: shortDate(last.computed_at) },
        ];
  return html`<svg
    class="score-chart"
    viewBox=${`0 0 ${CHART.width} ${CHART.height}`}
    role="img"
    aria-label=${label}
  >
    <g aria-hidden="true">
      ${bands.map(
        (band) => html`<rect
            class=${`chart-band chart-band-${band.code}`}
            x=${CHART.left}
            y=${scale.y(band.to)}
            width=${right - CHART.left}
            height=${scale.y(band.from) - scale.y(band.to)}
          />
          ${scale.y(band.from) - scale.y(band.to) >= 13
            ? html`<text
                class="chart-band-name"
                x=${right - 4}
                y=${scale.y(band.to) + 11}
                text-anchor="end"
              >
                ${t(`band.${band.code}`)}
              </text>`
            : null}`,
      )}
      ${ticks.map(
        (value) => html`<line class="chart-grid" x1=${CHART.left} x2=${right} y1=${scale.y(value)} y2=${scale.y(value)} />
          <text class="chart-tick" x=${CHART.left - 6} y=${scale.y(value) + 4} text-anchor="end">
            ${formatNumber(value)}
          </text>`,
      )}
      <line class="chart-axis" x1=${CHART.left} x2=${right} y1=${bottom} y2=${bottom} />
      ${xLabels.map(
        (label) => html`<text class="chart-tick" x=${label.x} y=${bottom + 18} text-anchor=${label.anchor}>
          ${label.text}
        </text>`,
      )}
      ${ordered.length > 1 ? html`<path class="chart-line" d=${line} />` : null}
      ${coords.map(
        ([x, y], i) => html`<circle
          class=${`chart-dot chart-dot-${ordered[i].band}${i === coords.length - 1 ? " chart-dot-last" : ""}`}
          cx=${x}
          cy=${y}
          r=${i === coords.length - 1 ? 5 : 3.5}
        />`,
      )}
    </g>
  </svg>`;
}

function HistoryTable({ points }) {
  return html`<details class="score-table">
    <summary>${t("score.table")}</summary>
    <div class="score-table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">${t("score.col.date")}</th>
            <th scope="col">${t("score.col.score")}</th>
            <th scope="col">${t("score.col.band")}</th>
            <th scope="col">${t("score.col.trigger")}</th>
          </tr>
        </thead>
        <tbody>
          ${points.map((point) => {
            const trigger = `score.trigger.${point.trigger}`;
            return html`<tr key=${point.computed_at}>
              <td class="date"><time datetime=${point.computed_at}>${formatDate(point.computed_at)}</time></td>
              <td class="num">${formatNumber(point.score)}</td>
              <td>${t(`band.${point.band}`)}</td>
              <td>${has(trigger) ? t(trigger) : point.trigger}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
  </details>`;
}

function History() {
  const history = useAllPages(HISTORY, { maxRows: HISTORY_LIMIT });
  return html`<${Card} title=${t("score.history")} class="score-history">
    <${Loaded} result=${history}>
      ${(points) =>
        points.length
          ? html`${history.count > points.length
                ? html`<p class="muted">${t("score.historyShown", { count: points.length })}</p>`
                : null}
              <${Chart} points=${points} />
              <${HistoryTable} points=${points} />`
          : html`<${Empty}>${t("score.historyEmpty")}<//>`}
    <//>
  <//>`;
}

// --- What if ------------------------------------------------------------------------------------

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

function SimResult({ simulation }) {
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
      ? html`<${ReasonList} reasons=${result.reasons} />`
      : html`<p class="notice notice-ok">${t("score.sim.reasonsNone")}</p>`}
    <p class="sim-note">${t("score.sim.note")}</p>
  </div>`;
}

function WhatIf({ score, me }) {
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
      <${SimResult} simulation=${simulation} />
    </div>
  <//>`;
}

// --- The screen ---------------------------------------------------------------------------------

export function ScoreScreen({ me }) {
  const score = useApi("me/score");
  return html`<${Screen} title=${t("nav.score")}>
    <${Loaded} result=${score}>
      ${(data) => html`
        <${Summary} score=${data} />
        <${Factors} score=${data} />
        <${Reasons} score=${data} />
        <${History} />
        <${WhatIf} score=${data} me=${me} />
      `}
    <//>
  <//>`;
}
