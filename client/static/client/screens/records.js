// My records: what the score is made of (credit records, each disputable), the disputes
// and their outcomes, the damage claims (pay or dispute them) and the stays behind them.
// Four tabs; the one shown is the route's `tab` parameter (#/records?tab=claims).
import { useEffect, useRef, useState } from "../vendor/preact-htm.js";

import { api, ApiError } from "../api.js";
import { formatDate, formatMoney, has, register, t } from "../i18n.js";
import {
  Badge,
  Button,
  Card,
  ConfirmButton,
  Empty,
  ErrorNotice,
  errorMessage,
  Field,
  html,
  Loaded,
  Money,
  notify,
  Pager,
  Screen,
  Tabs,
  useAction,
  usePaged,
} from "../ui.js";

register({
  en: {
    "records.tabs": "Kinds of records",
    "records.tab.records": "Records",
    "records.tab.disputes": "Disputes",
    "records.tab.claims": "Claims",
    "records.tab.bookings": "Bookings",

    "records.intro":
      "These records make up your score. If one is wrong, dispute it: a disputed record stops counting until our staff decide. A dispute not decided within 30 days is upheld automatically and the record is removed.",
    "records.count": { one: "{count} record", other: "{count} records" },
    "records.empty": "No credit records yet. They appear as you pay bills and complete stays.",
    "records.due": "due {date}",
    "records.countsUntil": "Counts until {date}",
    "records.notCounting": "Not counting while disputed",
    "records.removed": "Removed after a dispute",
    "records.settled": "Settled on {date}: no longer counts",
    "records.expired": "Stopped counting on {date}",
    "records.notYet": "Does not count yet",
    "records.wasDisputed": "You disputed this record and the dispute was rejected, so it counts again.",
    "records.seeDispute": "See the dispute",
    "records.dispute": "Dispute",
    "records.disputeLabel": "Why is this record wrong?",
    "records.disputeHint": "Say what happened and what shows it, such as a date or a receipt. Our staff will check it.",
    "records.sendDispute": "Send dispute",
    "records.disputeSent": "Dispute sent: this record stops counting until it is decided",

    "records.disputesIntro":
      "Disputes of your records. While one is open the record does not count; one not decided within 30 days is upheld automatically.",
    "records.disputesClaims": "Disputes of damage claims are shown with each claim.",
    "records.disputesClaimsLink": "See claims",
    "records.disputesEmpty": "You have not disputed any record.",
    "records.outcome.open": "Waiting for a decision. If none is made by {date}, it is upheld automatically.",
    "records.outcome.upheld": "Upheld: the record was removed",
    "records.outcome.rejected": "Rejected: the record counts again",
    "records.outcome.auto": "Upheld automatically after 30 days: the record was removed",
    "records.yourReason": "Your reason",
    "records.staffNote": "Note from our staff",
    "records.opened": "Opened {date}",
    "records.decided": "Decided {date}",

    "records.claimsEmpty": "No damage claims. Merchants make one only if something was damaged.",
    "records.claimStatus.paid": "Paid",
    "records.claimStatus.unpaid": "Unpaid",
    "records.claimStatus.disputed": "Disputed",
    "records.claimStatus.cancelled": "Cancelled",
    "records.claimAmount": "Claimed",
    "records.claimPaid": "Paid",
    "records.claimUnpaid": "To pay",
    "records.claimRefunded": "Refunded",
    "records.claimMade": "Made {date}",
    "records.claimPaidOn": "Paid {date}",
    "records.pay": "Pay",
    "records.payQuestion": "Pay {amount} to {merchant} from your wallet?",
    "records.payConfirm": "Yes, pay",
    "records.paid": "Claim paid",
    "records.topUp": "Top up your wallet",
    "records.claimDispute": "Dispute",
    "records.claimDisputeLabel": "What is wrong with this claim?",
    "records.claimDisputeHint":
      "While your dispute is open, nothing more is collected and an unpaid claim does not count against your score. If it is upheld, what you paid is refunded.",
    "records.claimDisputeSent": "Dispute sent: the claim is not collected until it is decided",
    "records.claimDisputeTitle": "Your dispute",
    "records.claimOutcome.open":
      "Waiting for a decision; nothing more is collected meanwhile. If none is made by {date}, it is upheld automatically.",
    "records.claimOutcome.openPaid":
      "Waiting for a decision; if it is upheld, what you paid is refunded. If none is made by {date}, it is upheld automatically.",
    "records.claimOutcome.upheld": "Upheld: the claim was cancelled and what was collected refunded",
    "records.claimOutcome.rejected": "Rejected: the claim stands",
    "records.claimOutcome.auto":
      "Upheld automatically after 30 days: the claim was cancelled and what was collected refunded",

    "records.bookingsEmpty": "No bookings yet.",
    "records.reference": "Reference {reference}",
    "records.deposit": "Deposit {amount}: {detail}",
    "records.noDeposit": "No deposit",
    "records.waived": "{amount} waived",
    "records.held": "{amount} held on your wallet",
    "records.wasHeld": "{amount} held during the stay",
    "records.and": "{first}, {second}",
    "records.booked": "Booked {date}",
    "records.completedOn": "Completed {date}",
    "records.bookingClaim": "Damage claim of {amount}: {status}",
  },
  es: {
    "records.tabs": "Tipos de registros",
    "records.tab.records": "Registros",
    "records.tab.disputes": "Reclamaciones",
    "records.tab.claims": "Cargos",
    "records.tab.bookings": "Reservas",

    "records.intro":
      "Estos registros forman tu puntuación. Si alguno es incorrecto, reclámalo: un registro reclamado deja de contar hasta que nuestro personal decida. Si una reclamación no se resuelve en 30 días, se acepta automáticamente y el registro se elimina.",
    "records.count": { one: "{count} registro", other: "{count} registros" },
    "records.empty": "Aún no hay registros de crédito. Aparecen cuando pagas facturas y completas estancias.",
    "records.due": "vence el {date}",
    "records.countsUntil": "Cuenta hasta el {date}",
    "records.notCounting": "No cuenta mientras está reclamado",
    "records.removed": "Eliminado tras una reclamación",
    "records.settled": "Saldado el {date}: ya no cuenta",
    "records.expired": "Dejó de contar el {date}",
    "records.notYet": "Aún no cuenta",
    "records.wasDisputed": "Reclamaste este registro y la reclamación se rechazó, así que vuelve a contar.",
    "records.seeDispute": "Ver la reclamación",
    "records.dispute": "Reclamar",
    "records.disputeLabel": "¿Por qué es incorrecto este registro?",
    "records.disputeHint": "Cuenta qué pasó y qué lo demuestra, como una fecha o un recibo. Nuestro personal lo revisará.",
    "records.sendDispute": "Enviar reclamación",
    "records.disputeSent": "Reclamación enviada: este registro deja de contar hasta que se resuelva",

    "records.disputesIntro":
      "Reclamaciones de tus registros. Mientras una está abierta, el registro no cuenta; si no se resuelve en 30 días, se acepta automáticamente.",
    "records.disputesClaims": "Las reclamaciones de cargos por daños aparecen junto a cada cargo.",
    "records.disputesClaimsLink": "Ver cargos",
    "records.disputesEmpty": "No has reclamado ningún registro.",
    "records.outcome.open": "Pendiente de decisión. Si no se decide antes del {date}, se acepta automáticamente.",
    "records.outcome.upheld": "Aceptada: el registro se eliminó",
    "records.outcome.rejected": "Rechazada: el registro vuelve a contar",
    "records.outcome.auto": "Aceptada automáticamente a los 30 días: el registro se eliminó",
    "records.yourReason": "Tu motivo",
    "records.staffNote": "Nota de nuestro personal",
    "records.opened": "Abierta el {date}",
    "records.decided": "Resuelta el {date}",

    "records.claimsEmpty": "No hay cargos por daños. Un comercio solo los hace si algo se dañó.",
    "records.claimStatus.paid": "Pagado",
    "records.claimStatus.unpaid": "Sin pagar",
    "records.claimStatus.disputed": "Reclamado",
    "records.claimStatus.cancelled": "Anulado",
    "records.claimAmount": "Importe",
    "records.claimPaid": "Pagado",
    "records.claimUnpaid": "Por pagar",
    "records.claimRefunded": "Reembolsado",
    "records.claimMade": "Hecho el {date}",
    "records.claimPaidOn": "Pagado el {date}",
    "records.pay": "Pagar",
    "records.payQuestion": "¿Pagar {amount} a {merchant} desde tu monedero?",
    "records.payConfirm": "Sí, pagar",
    "records.paid": "Cargo pagado",
    "records.topUp": "Recarga tu monedero",
    "records.claimDispute": "Reclamar",
    "records.claimDisputeLabel": "¿Qué es incorrecto en este cargo?",
    "records.claimDisputeHint":
      "Mientras tu reclamación esté abierta, no se cobra nada más y un cargo sin pagar no cuenta en tu puntuación. Si se acepta, se te devuelve lo que pagaste.",
    "records.claimDisputeSent": "Reclamación enviada: el cargo no se cobra hasta que se resuelva",
    "records.claimDisputeTitle": "Tu reclamación",
    "records.claimOutcome.open":
      "Pendiente de decisión; mientras tanto no se cobra nada más. Si no se decide antes del {date}, se acepta automáticamente.",
    "records.claimOutcome.openPaid":
      "Pendiente de decisión; si se acepta, se te devuelve lo que pagaste. Si no se decide antes del {date}, se acepta automáticamente.",
    "records.claimOutcome.upheld": "Aceptada: el cargo se anuló y se reembolsó lo cobrado",
    "records.claimOutcome.rejected": "Rechazada: el cargo se mantiene",
    "records.claimOutcome.auto":
      "Aceptada automáticamente a los 30 días: el cargo se anuló y se reembolsó lo cobrado",

    "records.bookingsEmpty": "Aún no hay reservas.",
    "records.reference": "Referencia {reference}",
    "records.deposit": "Depósito de {amount}: {detail}",
    "records.noDeposit": "Sin depósito",
    "records.waived": "{amount} dispensados",
    "records.held": "{amount} retenidos en tu monedero",
    "records.wasHeld": "{amount} retenidos durante la estancia",
    "records.and": "{first}; {second}",
    "records.booked": "Reservada el {date}",
    "records.completedOn": "Completada el {date}",
    "records.bookingClaim": "Cargo por daños de {amount}: {status}",
  },
  "zh-Hans": {
    "records.tabs": "记录类别",
    "records.tab.records": "记录",
    "records.tab.disputes": "异议",
    "records.tab.claims": "索赔",
    "records.tab.bookings": "预订",

    "records.intro":
      "您的评分由这些记录组成。如果某条记录有误，请提出异议：有异议的记录在工作人员作出决定前不计入评分。异议如 30 天内未获处理，将自动予以支持，该记录随之移除。",
    "records.count": { other: "共 {count} 条记录" },
    "records.empty": "还没有信用记录。支付账单、完成入住后就会出现。",
    "records.due": "到期日 {date}",
    "records.countsUntil": "计入评分至 {date}",
    "records.notCounting": "异议期间不计入评分",
    "records.removed": "经异议后已移除",
    "records.settled": "已于 {date} 结清，不再计入",
    "records.expired": "已于 {date} 停止计入",
    "records.notYet": "尚未计入",
    "records.wasDisputed": "您曾对这条记录提出异议，异议被驳回，因此它重新计入评分。",
    "records.seeDispute": "查看异议",
    "records.dispute": "提出异议",
    "records.disputeLabel": "这条记录哪里有误？",
    "records.disputeHint": "请说明情况及相关证明，例如日期或收据。工作人员会进行核实。",
    "records.sendDispute": "提交异议",
    "records.disputeSent": "异议已提交：在作出决定前，这条记录不计入评分",

    "records.disputesIntro": "您对记录提出的异议。异议处理期间记录不计入评分；30 天内未处理的异议将自动予以支持。",
    "records.disputesClaims": "对损坏索赔的异议显示在各项索赔中。",
    "records.disputesClaimsLink": "查看索赔",
    "records.disputesEmpty": "您还没有对任何记录提出异议。",
    "records.outcome.open": "等待处理。如果到 {date} 仍未作出决定，将自动予以支持。",
    "records.outcome.upheld": "已支持：该记录已移除",
    "records.outcome.rejected": "已驳回：该记录重新计入评分",
    "records.outcome.auto": "30 天后自动支持：该记录已移除",
    "records.yourReason": "您的理由",
    "records.staffNote": "工作人员备注",
    "records.opened": "提出于 {date}",
    "records.decided": "决定于 {date}",

    "records.claimsEmpty": "没有损坏索赔。只有物品损坏时商户才会提出索赔。",
    "records.claimStatus.paid": "已支付",
    "records.claimStatus.unpaid": "未支付",
    "records.claimStatus.disputed": "异议中",
    "records.claimStatus.cancelled": "已取消",
    "records.claimAmount": "索赔金额",
    "records.claimPaid": "已付",
    "records.claimUnpaid": "待付",
    "records.claimRefunded": "已退款",
    "records.claimMade": "提出于 {date}",
    "records.claimPaidOn": "支付于 {date}",
    "records.pay": "支付",
    "records.payQuestion": "从钱包向{merchant}支付 {amount}？",
    "records.payConfirm": "确认支付",
    "records.paid": "索赔已支付",
    "records.topUp": "为钱包充值",
    "records.claimDispute": "提出异议",
    "records.claimDisputeLabel": "这项索赔哪里有误？",
    "records.claimDisputeHint": "异议处理期间不会再扣款，未付的索赔也不会影响您的评分。如果异议获得支持，您已支付的款项将退还给您。",
    "records.claimDisputeSent": "异议已提交：在作出决定前不会收取该索赔",
    "records.claimDisputeTitle": "您的异议",
    "records.claimOutcome.open": "等待处理，期间不会再扣款。如果到 {date} 仍未作出决定，将自动予以支持。",
    "records.claimOutcome.openPaid": "等待处理；如果异议获得支持，您已支付的款项将退还给您。如果到 {date} 仍未作出决定，将自动予以支持。",
    "records.claimOutcome.upheld": "已支持：索赔已取消，已收取的款项已退还",
    "records.claimOutcome.rejected": "已驳回：索赔仍然有效",
    "records.claimOutcome.auto": "30 天后自动支持：索赔已取消，已收取的款项已退还",

    "records.bookingsEmpty": "还没有预订。",
    "records.reference": "预订号 {reference}",
    "records.deposit": "押金 {amount}：{detail}",
    "records.noDeposit": "无押金",
    "records.waived": "免除 {amount}",
    "records.held": "在钱包中冻结 {amount}",
    "records.wasHeld": "入住期间冻结 {amount}",
    "records.and": "{first}，{second}",
    "records.booked": "预订于 {date}",
    "records.completedOn": "完成于 {date}",
    "records.bookingClaim": "损坏索赔 {amount}：{status}",
  },
});

const TABS = ["records", "disputes", "claims", "bookings"];
const DISPUTE_DAYS = 30;
const DAY = 24 * 3600 * 1000;
const LONG = { dateStyle: "long" };

// --- Small helpers ----------------------------------------------------------------------

/** A message by code when this app knows it, else the server's own text. */
function byCode(prefix, code, fallback) {
  return code && has(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : fallback || code || "";
}

function statusWord(status) {
  return byCode("status", status, status);
}

/** A claim's status (its own words: in Spanish a claim, "cargo", is masculine). */
function claimStatusWord(status) {
  return byCode("records.claimStatus", status, statusWord(status));
}

/** When an open dispute is upheld automatically: 30 days after it was opened. */
function autoUpholdDate(openedAt) {
  return new Date(new Date(openedAt).getTime() + DISPUTE_DAYS * DAY);
}

/**
 * The record's description is the server's English ("Bill from Metro Mobile, due
 * 2026-12-03", "Claim by Harbour Hotel"): keep the merchant's name and the due date, and
 * say the rest in the reader's language. Anything else is shown as it came.
 */
function describe(description) {
  if (!description) return "";
  const bill = /^Bill from (.+?)(?:, due (\d{4}-\d{2}-\d{2}))?$/.exec(description);
  if (bill) return bill[2] ? `${bill[1]} · ${t("records.due", { date: formatDate(bill[2]) })}` : bill[1];
  const claim = /^Claim by (.+)$/.exec(description);
  if (claim) return claim[1];
  return description;
}

function fieldErrorsOf(error) {
  return error instanceof ApiError ? error.fields : {};
}

/** The error to show as a sentence: everything but field errors already shown by a field. */
function generalError(error, shownFields) {
  if (!error) return null;
  if (error instanceof ApiError && error.code === "invalid") {
    const fields = Object.keys(error.fields);
    if (fields.length && fields.every((name) => shownFields.includes(name))) return null;
  }
  return error;
}

function Dates({ items }) {
  const shown = items.filter(Boolean);
  if (!shown.length) return null;
  return html`<p class="muted records-dates">
    ${shown.map((item, index) => html`${index ? html`<span aria-hidden="true"> · </span>` : null}<span>${item}</span>`)}
  </p>`;
}

/** A paginated list in a card: loading, error with retry, empty, the rows, the pager. */
function PagedList({ list, empty, label, children }) {
  return html`<${Loaded} result=${list}>
    ${(data) =>
      data.results.length
        ? html`<${Card} class="records-card">
            <ul class="list records-list" aria-label=${label} aria-busy=${list.loading ? "true" : "false"}>
              ${data.results.map(children)}
            </ul>
            <${Pager} list=${list} />
          <//>`
        : html`<${Empty}>${empty}<//>`}
  <//>`;
}

// --- A dispute form (records and claims) ---------------------------------------------------

let formCounter = 0;

function DisputeForm({ label, hint, submitLabel, perform, onDone, onCancel }) {
  const [reason, setReason] = useState("");
  const [missing, setMissing] = useState(false);
  const action = useAction(perform);
  const idRef = useRef(null);
  if (!idRef.current) idRef.current = `records-reason-${++formCounter}`;
  const focusInput = () => document.getElementById(idRef.current)?.focus();
  useEffect(focusInput, []);
  const submit = async (event) => {
    event.preventDefault();
    const text = reason.trim();
    if (!text) {
      setMissing(true);
      focusInput();
      return;
    }
    setMissing(false);
    const result = await action.run(text);
    if (result !== undefined) onDone(result);
  };
  const fields = fieldErrorsOf(action.error);
  const reasonError = missing ? { code: "required" } : fields.reason;
  return html`<form class="form records-form" onSubmit=${submit} noValidate>
    <${ErrorNotice} error=${generalError(action.error, ["reason"])} />
    <${Field}
      as="textarea"
      label=${label}
      hint=${hint}
      name="reason"
      required
      maxlength="2000"
      rows="4"
      value=${reason}
      id=${idRef.current}
      onInput=${(event) => setReason(event.currentTarget.value)}
      error=${reasonError}
    />
    <div class="button-row">
      <${Button} type="submit" busy=${action.busy}>${submitLabel}<//>
      <${Button} variant="secondary" onClick=${onCancel}>${t("common.cancel")}<//>
    </div>
  </form>`;
}

// --- Records ---------------------------------------------------------------------------

function countsText(event) {
  if (event.status === "removed") return { tone: "neutral", text: t("records.removed") };
  if (event.status === "disputed") return { tone: "warning", text: t("records.notCounting") };
  if (event.counts) {
    return { tone: "ok", text: t("records.countsUntil", { date: formatDate(event.counts_until, LONG) }) };
  }
  const now = Date.now();
  if (event.settled_at && new Date(event.settled_at).getTime() <= now) {
    return { tone: "neutral", text: t("records.settled", { date: formatDate(event.settled_at, LONG) }) };
  }
  if (new Date(event.counts_until).getTime() <= now) {
    return { tone: "neutral", text: t("records.expired", { date: formatDate(event.counts_until, LONG) }) };
  }
  return { tone: "neutral", text: t("records.notYet") };
}

function RecordItem({ event, open, onOpen, onClose, onDisputed, navigate }) {
  const counts = countsText(event);
  const disputable = event.status === "active" && !event.dispute_id;
  const perform = (key, reason) =>
    api("me/disputes", {
      method: "POST",
      body: { event_id: event.id, reason },
      idempotencyKey: key,
    });
  const detail = describe(event.description);
  return html`<li id=${`record-${event.id}`} tabindex="-1" class="records-item">
    <div class="row">
      <h2 class="records-item-title">${byCode("event", event.kind, event.kind)}</h2>
      ${event.amount !== null && event.amount !== undefined && event.currency
        ? html`<${Money} amount=${event.amount} currency=${event.currency} />`
        : null}
    </div>
    <${Dates}
      items=${[
        html`<time datetime=${event.occurred_at}>${formatDate(event.occurred_at)}</time>`,
        detail,
      ]}
    />
    <p class=${`records-counts records-counts-${counts.tone}`}>${counts.text}</p>
    ${event.status === "active" && event.dispute_id
      ? html`<p class="muted">${t("records.wasDisputed")}</p>`
      : null}
    ${event.dispute_id
      ? html`<p>
          <a
            href="#/records?tab=disputes"
            onClick=${(click) => {
              click.preventDefault();
              navigate("records", { tab: "disputes" });
            }}
            >${t("records.seeDispute")}</a
          >
        </p>`
      : null}
    ${disputable
      ? html`<div class="records-actions">
          <${Button}
            variant="secondary"
            aria-expanded=${open ? "true" : "false"}
            id=${`record-dispute-${event.id}`}
            onClick=${open ? onClose : onOpen}
          >
            ${t("records.dispute")}
          <//>
          ${open
            ? html`<${DisputeForm}
                label=${t("records.disputeLabel")}
                hint=${t("records.disputeHint")}
                submitLabel=${t("records.sendDispute")}
                perform=${perform}
                onDone=${onDisputed}
                onCancel=${() => {
                  onClose();
                  document.getElementById(`record-dispute-${event.id}`)?.focus();
                }}
              />`
            : null}
        </div>`
      : null}
  </li>`;
}

function RecordsPanel({ navigate }) {
  const list = usePaged("me/events");
  const [openId, setOpenId] = useState(null);
  const disputed = (id) => {
    setOpenId(null);
    notify(t("records.disputeSent"));
    list.reload();
    // The form is gone: the record itself takes the focus, with its new status.
    setTimeout(() => document.getElementById(`record-${id}`)?.focus(), 0);
  };
  return html`<div>
    <p class="notice records-intro">${t("records.intro")}</p>
    ${list.data?.count ? html`<p class="muted">${t("records.count", { count: list.data.count })}</p>` : null}
    <${PagedList} list=${list} empty=${t("records.empty")} label=${t("records.tab.records")}>
      ${(event) => html`<${RecordItem}
        key=${event.id}
        event=${event}
        open=${openId === event.id}
        onOpen=${() => setOpenId(event.id)}
        onClose=${() => setOpenId(null)}
        onDisputed=${() => disputed(event.id)}
        navigate=${navigate}
      />`}
    <//>
  </div>`;
}

// --- Disputes --------------------------------------------------------------------------

const DISPUTE_TONE = { open: "warning", upheld: "ok", rejected: "danger" };

function DisputeOutcome({ dispute, prefix, automatic, openKey = "open" }) {
  if (dispute.status === "open") {
    return html`<p class="records-outcome">
      ${t(`${prefix}.${openKey}`, { date: formatDate(autoUpholdDate(dispute.opened_at), LONG) })}
    </p>`;
  }
  const key = dispute.status === "upheld" && automatic ? "auto" : dispute.status;
  return html`<p class="records-outcome"><strong>${byCode(prefix, key, statusWord(dispute.status))}</strong></p>`;
}

function DisputeDetails({ dispute, automatic }) {
  return html`
    ${dispute.reason
      ? html`<div class="records-quote">
          <p class="records-quote-label">${t("records.yourReason")}</p>
          <p class="records-quote-text">${dispute.reason}</p>
        </div>`
      : null}
    ${dispute.resolution_note && !automatic
      ? html`<div class="records-quote">
          <p class="records-quote-label">${t("records.staffNote")}</p>
          <p class="records-quote-text">${dispute.resolution_note}</p>
        </div>`
      : null}
    <${Dates}
      items=${[
        html`<time datetime=${dispute.opened_at}>${t("records.opened", { date: formatDate(dispute.opened_at) })}</time>`,
        dispute.resolved_at
          ? html`<time datetime=${dispute.resolved_at}>${t("records.decided", { date: formatDate(dispute.resolved_at) })}</time>`
          : null,
      ]}
    />
  `;
}

function DisputesPanel({ navigate }) {
  const list = usePaged("me/disputes");
  return html`<div>
    <p class="notice records-intro">${t("records.disputesIntro")}</p>
    <p class="muted">
      ${t("records.disputesClaims")}${" "}
      <a
        href="#/records?tab=claims"
        onClick=${(event) => {
          event.preventDefault();
          navigate("records", { tab: "claims" });
        }}
        >${t("records.disputesClaimsLink")}</a
      >
    </p>
    <${PagedList} list=${list} empty=${t("records.disputesEmpty")} label=${t("records.tab.disputes")}>
      ${(dispute) => html`<li key=${dispute.id} class="records-item">
        <div class="row">
          <h2 class="records-item-title">${byCode("event", dispute.event_kind, dispute.event_kind)}</h2>
          <${Badge} tone=${DISPUTE_TONE[dispute.status] || "neutral"}>${statusWord(dispute.status)}<//>
        </div>
        <${DisputeOutcome}
          dispute=${dispute}
          prefix="records.outcome"
          automatic=${dispute.resolved_automatically}
        />
        <${DisputeDetails} dispute=${dispute} automatic=${dispute.resolved_automatically} />
      </li>`}
    <//>
  </div>`;
}

// --- Claims ----------------------------------------------------------------------------

const CLAIM_TONE = { paid: "ok", unpaid: "danger", disputed: "warning", cancelled: "neutral" };

function PayClaim({ claim, onPaid }) {
  const action = useAction((key) =>
    api(`me/claims/${claim.id}/pay`, { method: "POST", idempotencyKey: key }),
  );
  const pay = async () => {
    const result = await action.run();
    if (result !== undefined) onPaid();
  };
  const short = action.error instanceof ApiError && action.error.code === "insufficient_funds";
  return html`<div class="records-pay">
    <${ConfirmButton}
      question=${t("records.payQuestion", {
        amount: formatMoney(claim.unpaid_amount, claim.currency),
        merchant: claim.merchant?.name || "",
      })}
      confirmLabel=${t("records.payConfirm")}
      busy=${action.busy}
      onConfirm=${pay}
    >
      ${t("records.pay")}
    <//>
    ${action.error
      ? html`<div class="notice notice-error" role="alert">
          <p>${short ? t("error.insufficient_funds") : errorMessage(action.error)}</p>
          ${short
            ? html`<p><a href="#/wallet">${t("records.topUp")}</a></p>`
            : html`<button type="button" class="button button-secondary" onClick=${pay}>
                ${t("common.retry")}
              </button>`}
        </div>`
      : null}
  </div>`;
}

function ClaimItem({ claim, open, onOpen, onClose, onChanged }) {
  const dispute = claim.dispute;
  const automatic = Boolean(dispute?.resolved_automatically);
  const perform = (key, reason) =>
    api(`me/claims/${claim.id}/dispute`, {
      method: "POST",
      body: { reason },
      idempotencyKey: key,
    });
  return html`<li id=${`claim-${claim.id}`} tabindex="-1" class="records-item">
    <div class="row">
      <h2 class="records-item-title">${claim.merchant?.name || t("transfer.claim")}</h2>
      <${Badge} tone=${CLAIM_TONE[claim.status] || "neutral"}>${claimStatusWord(claim.status)}<//>
    </div>
    ${claim.description ? html`<p>${claim.description}</p>` : null}
    <dl class="records-amounts">
      <div>
        <dt>${t("records.claimAmount")}</dt>
        <dd><${Money} amount=${claim.amount} currency=${claim.currency} /></dd>
      </div>
      <div>
        <dt>${t("records.claimPaid")}</dt>
        <dd><${Money} amount=${claim.paid_amount} currency=${claim.currency} /></dd>
      </div>
      ${claim.refunded_amount
        ? html`<div>
            <dt>${t("records.claimRefunded")}</dt>
            <dd><${Money} amount=${claim.refunded_amount} currency=${claim.currency} /></dd>
          </div>`
        : html`<div>
            <dt>${t("records.claimUnpaid")}</dt>
            <dd><${Money} amount=${claim.unpaid_amount} currency=${claim.currency} /></dd>
          </div>`}
    </dl>
    <${Dates}
      items=${[
        html`<time datetime=${claim.created_at}>${t("records.claimMade", { date: formatDate(claim.created_at) })}</time>`,
        claim.paid_at
          ? html`<time datetime=${claim.paid_at}>${t("records.claimPaidOn", { date: formatDate(claim.paid_at) })}</time>`
          : null,
      ]}
    />
    ${dispute
      ? html`<section class="records-claim-dispute" aria-labelledby=${`claim-dispute-${claim.id}`}>
          <div class="row">
            <h3 id=${`claim-dispute-${claim.id}`}>${t("records.claimDisputeTitle")}</h3>
            <${Badge} tone=${DISPUTE_TONE[dispute.status] || "neutral"}>${statusWord(dispute.status)}<//>
          </div>
          <${DisputeOutcome}
            dispute=${dispute}
            prefix="records.claimOutcome"
            automatic=${automatic}
            openKey=${claim.unpaid_amount > 0 ? "open" : "openPaid"}
          />
          <${DisputeDetails} dispute=${dispute} automatic=${automatic} />
        </section>`
      : null}
    ${claim.status === "unpaid" || !dispute
      ? html`<div class="records-actions">
          ${claim.status === "unpaid" ? html`<${PayClaim} claim=${claim} onPaid=${() => onChanged("paid")} />` : null}
          ${!dispute
            ? html`<${Button}
                variant="secondary"
                aria-expanded=${open ? "true" : "false"}
                id=${`claim-dispute-button-${claim.id}`}
                onClick=${open ? onClose : onOpen}
              >
                ${t("records.claimDispute")}
              <//>`
            : null}
          ${open && !dispute
            ? html`<${DisputeForm}
                label=${t("records.claimDisputeLabel")}
                hint=${t("records.claimDisputeHint")}
                submitLabel=${t("records.sendDispute")}
                perform=${perform}
                onDone=${() => onChanged("disputed")}
                onCancel=${() => {
                  onClose();
                  document.getElementById(`claim-dispute-button-${claim.id}`)?.focus();
                }}
              />`
            : null}
        </div>`
      : null}
  </li>`;
}

function ClaimsPanel() {
  const list = usePaged("me/claims");
  const [openId, setOpenId] = useState(null);
  const changed = (id, what) => {
    setOpenId(null);
    notify(t(what === "paid" ? "records.paid" : "records.claimDisputeSent"));
    list.reload();
    setTimeout(() => document.getElementById(`claim-${id}`)?.focus(), 0);
  };
  return html`<${PagedList} list=${list} empty=${t("records.claimsEmpty")} label=${t("records.tab.claims")}>
    ${(claim) => html`<${ClaimItem}
      key=${claim.id}
      claim=${claim}
      open=${openId === claim.id}
      onOpen=${() => setOpenId(claim.id)}
      onClose=${() => setOpenId(null)}
      onChanged=${(what) => changed(claim.id, what)}
    />`}
  <//>`;
}

// --- Bookings --------------------------------------------------------------------------

const BOOKING_TONE = { confirmed: "neutral", completed: "ok" };
const OUTCOME_TONE = { ok: "ok", damage: "danger", no_show: "warning" };

function depositText(booking) {
  const money = (amount) => formatMoney(amount, booking.currency);
  if (!booking.deposit_amount) return t("records.noDeposit");
  const parts = [];
  if (booking.waived_amount) parts.push(t("records.waived", { amount: money(booking.waived_amount) }));
  if (booking.hold_amount) {
    const key = booking.status === "confirmed" ? "records.held" : "records.wasHeld";
    parts.push(t(key, { amount: money(booking.hold_amount) }));
  }
  const detail = parts.length === 2 ? t("records.and", { first: parts[0], second: parts[1] }) : parts[0] || "";
  return detail
    ? t("records.deposit", { amount: money(booking.deposit_amount), detail })
    : money(booking.deposit_amount);
}

function BookingItem({ booking, navigate }) {
  const claim = booking.claim;
  return html`<li class="records-item">
    <div class="row">
      <h2 class="records-item-title">${booking.merchant?.name || booking.reference}</h2>
      <${Badge} tone=${BOOKING_TONE[booking.status] || "neutral"}>${statusWord(booking.status)}<//>
    </div>
    <p>
      <time datetime=${booking.check_in}>${formatDate(booking.check_in)}</time>
      ${" – "}
      <time datetime=${booking.check_out}>${formatDate(booking.check_out)}</time>
    </p>
    <${Dates}
      items=${[
        booking.merchant?.category ? byCode("category", booking.merchant.category) : null,
        t("records.reference", { reference: booking.reference }),
      ]}
    />
    <p class="records-deposit">${depositText(booking)}</p>
    ${booking.outcome
      ? html`<p class="records-outcome">
          <${Badge} tone=${OUTCOME_TONE[booking.outcome] || "neutral"}>${byCode("outcome", booking.outcome)}<//>
        </p>`
      : null}
    ${claim
      ? html`<p>
          <a
            href="#/records?tab=claims"
            onClick=${(event) => {
              event.preventDefault();
              navigate("records", { tab: "claims" });
            }}
            >${t("records.bookingClaim", {
              amount: formatMoney(claim.amount, claim.currency),
              status: claimStatusWord(claim.status),
            })}</a
          >
        </p>`
      : null}
    <${Dates}
      items=${[
        html`<time datetime=${booking.created_at}>${t("records.booked", { date: formatDate(booking.created_at) })}</time>`,
        booking.completed_at
          ? html`<time datetime=${booking.completed_at}>${t("records.completedOn", { date: formatDate(booking.completed_at) })}</time>`
          : null,
      ]}
    />
  </li>`;
}

function BookingsPanel({ navigate }) {
  const list = usePaged("me/bookings");
  return html`<${PagedList} list=${list} empty=${t("records.bookingsEmpty")} label=${t("records.tab.bookings")}>
    ${(booking) => html`<${BookingItem} key=${booking.id} booking=${booking} navigate=${navigate} />`}
  <//>`;
}

// --- The screen ------------------------------------------------------------------------

const PANELS = {
  records: RecordsPanel,
  disputes: DisputesPanel,
  claims: ClaimsPanel,
  bookings: BookingsPanel,
};

export function RecordsScreen({ params = {}, navigate }) {
  const tab = TABS.includes(params.tab) ? params.tab : "records";
  const Panel = PANELS[tab];
  return html`<${Screen} title=${t("nav.records")}>
    <${Tabs}
      id="records"
      label=${t("records.tabs")}
      tabs=${TABS.map((key) => ({ key, label: t(`records.tab.${key}`) }))}
      current=${tab}
      onSelect=${(next) => navigate("records", { tab: next })}
      class="records-tabs"
    />
    <div
      role="tabpanel"
      id=${`records-panel-${tab}`}
      aria-labelledby=${`records-tab-${tab}`}
      tabindex="0"
      class="records-panel"
    >
      <${Panel} key=${tab} navigate=${navigate} />
    </div>
  <//>`;
}
