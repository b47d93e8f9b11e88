// Bills: what is to pay (with how soon it is due) and what was paid (on time or late).
// Paying asks first, moves money once whatever the network does (idempotency key), and
// says whether the payment counts for the score.
import { useEffect } from "../vendor/preact-htm.js";

import { api } from "../api.js";
import { formatDate, formatMoney, register, t } from "../i18n.js";
import { billDue } from "../lib/dates.js";
import {
  Badge,
  ConfirmButton,
  Empty,
  ErrorNotice,
  html,
  Loaded,
  Money,
  notify,
  Pager,
  Screen,
  Tabs,
  useAction,
  useApi,
  usePaged,
} from "../ui.js";

register({
  en: {
    "bills.tabs": "Which bills",
    "bills.tabOpen": "Open",
    "bills.tabPaid": "Paid",
    "bills.available": "Available in your wallet: {amount}",
    "bills.onTimeTip": "Paying on or before the due date helps your score. A bill still unpaid 30 days after its due date is reported as overdue.",
    "bills.dueOn": "Due {date}",
    "bills.dueToday": "Due today",
    "bills.dueTomorrow": "Due tomorrow",
    "bills.dueIn": { one: "Due in {count} day", other: "Due in {count} days" },
    "bills.pastDueBy": { one: "Past due by {count} day", other: "Past due by {count} days" },
    "bills.reportOn": "Unpaid on {date}, it will be reported as overdue on your record.",
    "bills.reported": "Reported as overdue on your record since {date}. Paying it now settles it.",
    "bills.pay": "Pay",
    "bills.payNow": "Pay now",
    "bills.confirm": "Pay {amount} to {biller} now?",
    "bills.paidOnTime": "Bill paid on time — it counts for your score",
    "bills.paidLate": "Bill paid",
    "bills.topUp": "Top up your wallet",
    "bills.paidOn": "Paid {date}",
    "bills.wasDue": "Was due {date}",
    "bills.onTime": "On time",
    "bills.late": "Late",
    "bills.noOpen": "No bills to pay",
    "bills.noOpenHint": "When a biller you have authorised sends you a bill, it will appear here.",
    "bills.noPaid": "No paid bills yet",
  },
  es: {
    "bills.tabs": "Qué facturas",
    "bills.tabOpen": "Por pagar",
    "bills.tabPaid": "Pagadas",
    "bills.available": "Disponible en tu monedero: {amount}",
    "bills.onTimeTip": "Pagar como muy tarde el día del vencimiento mejora tu puntuación. Una factura sin pagar 30 días después se comunica como impagada.",
    "bills.dueOn": "Vence el {date}",
    "bills.dueToday": "Vence hoy",
    "bills.dueTomorrow": "Vence mañana",
    "bills.dueIn": { one: "Vence en {count} día", other: "Vence en {count} días" },
    "bills.pastDueBy": { one: "Vencida hace {count} día", other: "Vencida hace {count} días" },
    "bills.reportOn": "Si sigue sin pagar el {date}, se comunicará como impagada en tu historial.",
    "bills.reported": "Comunicada como impagada en tu historial desde el {date}. Pagarla ahora la salda.",
    "bills.pay": "Pagar",
    "bills.payNow": "Pagar ahora",
    "bills.confirm": "¿Pagar ahora {amount} a {biller}?",
    "bills.paidOnTime": "Factura pagada a tiempo: cuenta para tu puntuación",
    "bills.paidLate": "Factura pagada",
    "bills.topUp": "Recargar el monedero",
    "bills.paidOn": "Pagada el {date}",
    "bills.wasDue": "Vencía el {date}",
    "bills.onTime": "A tiempo",
    "bills.late": "Con retraso",
    "bills.noOpen": "No hay facturas por pagar",
    "bills.noOpenHint": "Cuando un emisor al que hayas dado permiso te envíe una factura, aparecerá aquí.",
    "bills.noPaid": "Aún no hay facturas pagadas",
  },
  "zh-Hans": {
    "bills.tabs": "账单类别",
    "bills.tabOpen": "待支付",
    "bills.tabPaid": "已支付",
    "bills.available": "钱包可用余额：{amount}",
    "bills.onTimeTip": "在到期日当天或之前付款有助于提高您的评分。到期 30 天后仍未支付的账单将作为逾期记录。",
    "bills.dueOn": "{date} 到期",
    "bills.dueToday": "今天到期",
    "bills.dueTomorrow": "明天到期",
    "bills.dueIn": { other: "{count} 天后到期" },
    "bills.pastDueBy": { other: "已过到期日 {count} 天" },
    "bills.reportOn": "如到 {date} 仍未支付，将作为逾期记入您的记录。",
    "bills.reported": "自 {date} 起已作为逾期记入您的记录。现在支付即可结清。",
    "bills.pay": "支付",
    "bills.payNow": "立即支付",
    "bills.confirm": "现在向{biller}支付 {amount}？",
    "bills.paidOnTime": "账单已按时支付，将计入您的评分",
    "bills.paidLate": "账单已支付",
    "bills.topUp": "为钱包充值",
    "bills.paidOn": "支付于 {date}",
    "bills.wasDue": "到期日 {date}",
    "bills.onTime": "按时",
    "bills.late": "逾期",
    "bills.noOpen": "没有待支付的账单",
    "bills.noOpenHint": "您授权的账单方发来账单后，会显示在这里。",
    "bills.noPaid": "还没有已支付的账单",
  },
});

/**
 * How soon an open bill is due, as a badge: danger when past due, warning within 3 days.
 * The server says in which zone its days run.
 */
function DueBadge({ bill, timeZone }) {
  const { pastDue, days } = billDue(bill, Date.now(), timeZone);
  if (pastDue) {
    return html`<${Badge} tone="danger">${t("bills.pastDueBy", { count: days })}<//>`;
  }
  const tone = days <= 3 ? "warning" : "neutral";
  let text;
  if (days === 0) text = t("bills.dueToday");
  else if (days === 1) text = t("bills.dueTomorrow");
  else text = t("bills.dueIn", { count: days });
  return html`<${Badge} tone=${tone}>${text}<//>`;
}

function BillHead({ bill }) {
  return html`<div class="row bill-head">
      <h2 class="bill-biller">${bill.biller.name}</h2>
      <span class="bill-amount"><${Money} amount=${bill.amount} currency=${bill.currency} /></span>
    </div>
    ${bill.description ? html`<p class="bill-description">${bill.description}</p>` : null}`;
}

function OpenBill({ bill, timeZone, onPaid }) {
  const pay = useAction((idempotencyKey) =>
    api(`me/bills/${bill.id}/pay`, { method: "POST", idempotencyKey }),
  );
  const confirm = async () => {
    const paid = await pay.run();
    if (!paid) return;
    notify(() => (paid.paid_on_time === false ? t("bills.paidLate") : t("bills.paidOnTime")));
    onPaid();
  };
  const { error, reset } = pay;
  // Paid meanwhile (another tab, another phone): say so and show the list as it is now.
  useEffect(() => {
    if (error?.code !== "bill_already_paid") return;
    notify(() => t("error.bill_already_paid"));
    reset();
    onPaid();
  }, [error, onPaid, reset]);
  const amount = formatMoney(bill.amount, bill.currency);
  const { pastDue, reported } = billDue(bill, Date.now(), timeZone);
  const reportDate = bill.overdue_at ? formatDate(bill.overdue_at) : null;
  return html`<li class=${`bill${pastDue ? " bill-overdue" : ""}`}>
    <${BillHead} bill=${bill} />
    <p class="row bill-due">
      <span class="muted">
        <time datetime=${bill.due_date}>${t("bills.dueOn", { date: formatDate(bill.due_date) })}</time>
      </span>
      <${DueBadge} bill=${bill} timeZone=${timeZone} />
    </p>
    ${pastDue && reportDate
      ? html`<p class=${reported ? "bill-reported" : "muted"}>
          <time datetime=${bill.overdue_at}>${t(reported ? "bills.reported" : "bills.reportOn", { date: reportDate })}</time>
        </p>`
      : null}
    ${error
      ? html`<div class="bill-error">
          <${ErrorNotice} error=${error} />
          ${error.code === "insufficient_funds"
            ? html`<p><a class="button button-secondary" href="#/wallet">${t("bills.topUp")}</a></p>`
            : null}
        </div>`
      : null}
    <div class="bill-actions">
      <${ConfirmButton}
        question=${t("bills.confirm", { amount, biller: bill.biller.name })}
        confirmLabel=${t("bills.payNow")}
        busy=${pay.busy}
        onConfirm=${confirm}
      >
        ${t("bills.pay")}
      <//>
    </div>
  </li>`;
}

function PaidBill({ bill }) {
  const onTime = bill.paid_on_time !== false;
  return html`<li class="bill">
    <${BillHead} bill=${bill} />
    <p class="row bill-due">
      <span>
        <time datetime=${bill.paid_at}>${t("bills.paidOn", { date: formatDate(bill.paid_at) })}</time>
      </span>
      <${Badge} tone=${onTime ? "ok" : "warning"}>${onTime ? t("bills.onTime") : t("bills.late")}<//>
    </p>
    <p class="muted bill-was-due">
      <time datetime=${bill.due_date}>${t("bills.wasDue", { date: formatDate(bill.due_date) })}</time>
    </p>
  </li>`;
}

function BillList({ status, timeZone, onPaid }) {
  const list = usePaged(`me/bills?status=${status}`);
  const paid = () => {
    list.reload();
    onPaid();
  };
  return html`<${Loaded} result=${list}>
    ${(data) => {
      if (!data.results.length) {
        return status === "open"
          ? html`<div class="card bills-empty">
              <${Empty}>${t("bills.noOpen")}<//>
              <p class="muted">${t("bills.noOpenHint")}</p>
            </div>`
          : html`<div class="card bills-empty"><${Empty}>${t("bills.noPaid")}<//></div>`;
      }
      return html`<ul class="list bill-list" aria-busy=${list.loading ? "true" : "false"}>
          ${data.results.map((bill) =>
            status === "open"
              ? html`<${OpenBill} key=${bill.id} bill=${bill} timeZone=${timeZone} onPaid=${paid} />`
              : html`<${PaidBill} key=${bill.id} bill=${bill} />`,
          )}
        </ul>
        <${Pager} list=${list} />`;
    }}
  <//>`;
}

export function BillsScreen({ me, params = {}, navigate }) {
  const tab = params.tab === "paid" ? "paid" : "open";
  const wallet = useApi("me/wallet");
  const select = (next) => {
    if (next !== tab) navigate("bills", next === "open" ? null : { tab: next });
  };
  return html`<${Screen} title=${t("nav.bills")}>
    <${Tabs}
      id="bills"
      label=${t("bills.tabs")}
      tabs=${[
        { key: "open", label: t("bills.tabOpen") },
        { key: "paid", label: t("bills.tabPaid") },
      ]}
      current=${tab}
      onSelect=${select}
      panel="bills-panel"
    />
    <div id="bills-panel" role="tabpanel" aria-labelledby=${`bills-tab-${tab}`}>
      ${tab === "open"
        ? html`<div class="bills-intro">
            ${wallet.data
              ? html`<p class="bills-available">
                  ${t("bills.available", { amount: formatMoney(wallet.data.available, wallet.data.currency) })}
                </p>`
              : null}
            <p class="muted">${t("bills.onTimeTip")}</p>
          </div>`
        : null}
      <${BillList} key=${tab} status=${tab} timeZone=${me?.time_zone || null} onPaid=${wallet.reload} />
    </div>
  <//>`;
}
