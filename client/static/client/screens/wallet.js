// Wallet: what is in it (balance, held for deposits, available), adding money to it, and
// every movement, newest first, filterable by kind.
import { useState } from "../vendor/preact-htm.js";

import { api, withQuery } from "../api.js";
import {
  currencyDigits,
  formatDateTime,
  formatMoney,
  formatNumber,
  parseMoney,
  register,
  t,
} from "../i18n.js";
import {
  Button,
  Card,
  Empty,
  ErrorNotice,
  Field,
  html,
  Loaded,
  Money,
  notify,
  Pager,
  Screen,
  useAction,
  useApi,
  usePaged,
} from "../ui.js";

register({
  en: {
    "wallet.summary": "Your money",
    "wallet.available": "Available to spend",
    "wallet.balance": "Balance",
    "wallet.held": "Held for deposits",
    "wallet.heldHint": "Set aside for the deposits of your current bookings. It comes back when the stay ends well.",
    "wallet.noHeld": "Nothing is held for deposits right now.",
    "wallet.topUpTitle": "Add money",
    "wallet.amount": "Amount to add",
    "wallet.amountHint": "In {currency}, for example {example}",
    "wallet.quickPick": "Quick amounts",
    "wallet.quickPickLabel": "Add {amount}",
    "wallet.topUp": "Top up",
    "wallet.amountUnreadable": "Enter an amount as a number, for example {example}.",
    "wallet.amountZero": "Enter an amount above zero.",
    "wallet.amountMax": "A single top-up can be at most {max}.",
    "wallet.added": "Added {amount} to your wallet",
    "wallet.transactions": "Transactions",
    "wallet.kindFilter": "Show",
    "wallet.allKinds": "All transactions",
    "wallet.noTransactions": "No transactions yet. Your top-ups and payments will appear here.",
    "wallet.noTransactionsOfKind": "No transactions of this type.",
    "wallet.in": "Money in",
    "wallet.out": "Money out",
    "wallet.desc.billFrom": "Bill from {merchant}: {what}",
    "wallet.desc.billFromOnly": "Bill from {merchant}",
    "wallet.desc.claimBy": "Claim by {merchant}: {what}",
    "wallet.desc.claimByOnly": "Claim by {merchant}",
    "wallet.desc.refund": "Refund of a disputed claim by {merchant}",
    "wallet.desc.deposit": "Deposit for {merchant}, booking {reference}",
  },
  es: {
    "wallet.summary": "Tu dinero",
    "wallet.available": "Disponible para gastar",
    "wallet.balance": "Saldo",
    "wallet.held": "Retenido para depósitos",
    "wallet.heldHint": "Reservado para los depósitos de tus reservas actuales. Vuelve a estar disponible cuando la estancia termina bien.",
    "wallet.noHeld": "Ahora mismo no hay nada retenido para depósitos.",
    "wallet.topUpTitle": "Añadir dinero",
    "wallet.amount": "Importe a añadir",
    "wallet.amountHint": "En {currency}, por ejemplo {example}",
    "wallet.quickPick": "Importes rápidos",
    "wallet.quickPickLabel": "Añadir {amount}",
    "wallet.topUp": "Recargar",
    "wallet.amountUnreadable": "Escribe el importe como un número, por ejemplo {example}.",
    "wallet.amountZero": "Escribe un importe mayor que cero.",
    "wallet.amountMax": "Una sola recarga puede ser como máximo de {max}.",
    "wallet.added": "Has añadido {amount} a tu monedero",
    "wallet.transactions": "Movimientos",
    "wallet.kindFilter": "Mostrar",
    "wallet.allKinds": "Todos los movimientos",
    "wallet.noTransactions": "Aún no hay movimientos. Aquí aparecerán tus recargas y pagos.",
    "wallet.noTransactionsOfKind": "No hay movimientos de este tipo.",
    "wallet.in": "Entrada",
    "wallet.out": "Salida",
    "wallet.desc.billFrom": "Factura de {merchant}: {what}",
    "wallet.desc.billFromOnly": "Factura de {merchant}",
    "wallet.desc.claimBy": "Cargo de {merchant}: {what}",
    "wallet.desc.claimByOnly": "Cargo de {merchant}",
    "wallet.desc.refund": "Reembolso de un cargo reclamado de {merchant}",
    "wallet.desc.deposit": "Depósito para {merchant}, reserva {reference}",
  },
  "zh-Hans": {
    "wallet.summary": "我的资金",
    "wallet.available": "可用余额",
    "wallet.balance": "余额",
    "wallet.held": "押金冻结",
    "wallet.heldHint": "为您当前预订的押金而冻结的金额。入住顺利结束后会解冻。",
    "wallet.noHeld": "目前没有冻结的押金。",
    "wallet.topUpTitle": "充值",
    "wallet.amount": "充值金额",
    "wallet.amountHint": "单位：{currency}，例如 {example}",
    "wallet.quickPick": "快捷金额",
    "wallet.quickPickLabel": "充值 {amount}",
    "wallet.topUp": "充值",
    "wallet.amountUnreadable": "请输入数字金额，例如 {example}。",
    "wallet.amountZero": "请输入大于零的金额。",
    "wallet.amountMax": "单笔充值最多为 {max}。",
    "wallet.added": "已向钱包充值 {amount}",
    "wallet.transactions": "交易记录",
    "wallet.kindFilter": "显示",
    "wallet.allKinds": "全部交易",
    "wallet.noTransactions": "还没有交易记录。您的充值和付款会显示在这里。",
    "wallet.noTransactionsOfKind": "没有此类交易。",
    "wallet.in": "收入",
    "wallet.out": "支出",
    "wallet.desc.billFrom": "{merchant} 的账单：{what}",
    "wallet.desc.billFromOnly": "{merchant} 的账单",
    "wallet.desc.claimBy": "{merchant} 的索赔：{what}",
    "wallet.desc.claimByOnly": "{merchant} 的索赔",
    "wallet.desc.refund": "{merchant} 的争议索赔退款",
    "wallet.desc.deposit": "{merchant} 的押金，预订号 {reference}",
  },
});

const KINDS = ["top_up", "payment", "hold_capture", "claim", "refund", "adjustment"];
const QUICK_PICKS = [100, 200, 500]; // major units

// --- Money in the person's own words ------------------------------------------------------

/** A major-unit amount as the person would type it here: 25.5 → "25.50" or "25,50". */
function typedAmount(major, currency) {
  const digits = Number.isInteger(major) ? 0 : currencyDigits(currency);
  return formatNumber(major, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false });
}

/** A round amount for a chip: ¥100 rather than ¥100.00. */
function roundMoney(major, currency) {
  try {
    return formatNumber(major, { style: "currency", currency, maximumFractionDigits: 0, minimumFractionDigits: 0 });
  } catch {
    return `${formatNumber(major)} ${currency}`;
  }
}

/** A signed amount with a real minus sign (read as "minus"), + for money in. */
function signedMoney(amount, currency) {
  return formatMoney(amount, currency, { signed: true }).replace("-", "\u2212");
}

/** Validate what was typed: {amount} in minor units, or {problem}: why it is not one. */
function readAmount(text, currency) {
  if (!String(text).trim()) return { problem: "required" };
  const amount = parseMoney(text, currency);
  if (amount !== null) return { amount };
  // Zero ("0", "0.00") and negative amounts are numbers, but not amounts to add.
  if ((/^[\s0.,\u00a0\u202f']+$/.test(text) && /0/.test(text)) || /^\s*[-\u2212]\s*\d/.test(text)) {
    return { problem: "zero" };
  }
  return { problem: "unreadable" };
}

/** A problem found here, as a field error in the current language. */
function problemError(problem, currency, maxTopUp) {
  if (problem === "required") return { code: "required" };
  if (problem === "tooMuch") return { message: t("wallet.amountMax", { max: formatMoney(maxTopUp, currency) }) };
  if (problem === "zero") return { message: t("wallet.amountZero") };
  return { message: t("wallet.amountUnreadable", { example: typedAmount(25.5, currency) }) };
}

/**
 * The server's error on `amount` (by its code when this app knows it). An amount over the
 * largest top-up never gets there: the wallet's `max_top_up` is checked here first.
 */
function serverAmountError(error) {
  return error?.fields?.amount || null;
}

// --- Descriptions: typed by the server (`description_code` and its parameters) ------------

const DESCRIPTIONS = {
  bill: (p) => (p.what ? ["wallet.desc.billFrom", p] : ["wallet.desc.billFromOnly", p]),
  claim: (p) => (p.what ? ["wallet.desc.claimBy", p] : ["wallet.desc.claimByOnly", p]),
  claim_refund: (p) => ["wallet.desc.refund", p],
  deposit: (p) => ["wallet.desc.deposit", p],
};

/**
 * A transaction's description in the reader's language, from its code and parameters;
 * nothing when it only repeats the kind; free text (no code) as it came, in English.
 */
function describe(transaction) {
  const code = transaction.description_code;
  const text = (transaction.description || "").trim();
  if (code === "kind_only") return null;
  if (code && DESCRIPTIONS[code]) {
    const [key, vars] = DESCRIPTIONS[code](transaction.description_params || {});
    return { text: t(key, vars), lang: null };
  }
  return text ? { text, lang: "en" } : null;
}

// --- Parts --------------------------------------------------------------------------------

function Summary({ wallet }) {
  return html`<${Card} title=${t("wallet.summary")} class="wallet-summary">
    <p class="wallet-available-label">${t("wallet.available")}</p>
    <p class="big-money wallet-available">
      <${Money} amount=${wallet.available} currency=${wallet.currency} />
    </p>
    <dl class="wallet-figures">
      <div>
        <dt>${t("wallet.balance")}</dt>
        <dd><${Money} amount=${wallet.balance} currency=${wallet.currency} /></dd>
      </div>
      <div>
        <dt>${t("wallet.held")}</dt>
        <dd><${Money} amount=${wallet.held} currency=${wallet.currency} /></dd>
      </div>
    </dl>
    <p class="muted wallet-held-hint">${wallet.held > 0 ? t("wallet.heldHint") : t("wallet.noHeld")}</p>
  <//>`;
}

function TopUpForm({ currency, maxTopUp, onDone }) {
  const [text, setText] = useState("");
  const [invalid, setInvalid] = useState(null);
  const action = useAction(
    (idempotencyKey, amount) =>
      api("me/top-ups", { method: "POST", body: { amount }, idempotencyKey }),
  );

  const change = (value) => {
    if (value === text) return;
    setText(value);
    setInvalid(null);
    // A different amount is a different request: it gets its own idempotency key.
    action.reset();
  };

  const submit = async (event) => {
    event.preventDefault();
    const read = readAmount(text, currency);
    const problem = read.problem || (Number.isInteger(maxTopUp) && read.amount > maxTopUp ? "tooMuch" : null);
    if (problem) {
      setInvalid(problem);
      event.currentTarget.querySelector("input")?.focus();
      return;
    }
    const result = await action.run(read.amount);
    if (!result) return;
    notify(t("wallet.added", { amount: formatMoney(result.transaction.amount, result.transaction.currency || currency) }));
    setText("");
    onDone(result);
  };

  const fieldError = invalid
    ? problemError(invalid, currency, maxTopUp)
    : serverAmountError(action.error);
  const example = typedAmount(25.5, currency);
  return html`<${Card} title=${t("wallet.topUpTitle")} class="top-up">
    <form class="form" onSubmit=${submit} novalidate>
      <${Field}
        label=${t("wallet.amount")}
        hint=${t("wallet.amountHint", { currency, example })}
        error=${fieldError}
        name="amount"
        type="text"
        inputmode="decimal"
        autocomplete="off"
        enterkeyhint="done"
        value=${text}
        onInput=${(event) => change(event.currentTarget.value)}
      />
      <div class="chips" role="group" aria-label=${t("wallet.quickPick")}>
        ${QUICK_PICKS.map((major) => {
          const value = typedAmount(major, currency);
          return html`<button
            type="button"
            class="chip"
            aria-pressed=${text === value ? "true" : "false"}
            aria-label=${t("wallet.quickPickLabel", { amount: roundMoney(major, currency) })}
            onClick=${() => change(value)}
          >
            ${roundMoney(major, currency)}
          </button>`;
        })}
      </div>
      ${action.error && !action.error.fields?.amount ? html`<${ErrorNotice} error=${action.error} />` : null}
      <div class="button-row">
        <${Button} type="submit" busy=${action.busy}>${t("wallet.topUp")}<//>
      </div>
    </form>
  <//>`;
}

function TransactionRow({ transaction }) {
  const incoming = transaction.amount >= 0;
  const description = describe(transaction);
  const kindKey = `transfer.${transaction.kind}`;
  const kind = t(kindKey) === kindKey ? transaction.kind : t(kindKey);
  return html`<li class="txn">
    <div class="row">
      <span class="txn-kind">${kind}</span>
      <span class=${`money txn-amount ${incoming ? "money-in" : "money-out"}`}>
        <span class="visually-hidden">${t(incoming ? "wallet.in" : "wallet.out")}: </span>
        ${signedMoney(transaction.amount, transaction.currency)}
      </span>
    </div>
    ${description
      ? html`<p class="txn-description" lang=${description.lang || undefined}>${description.text}</p>`
      : null}
    <p class="muted txn-when">
      <time datetime=${transaction.created_at}>${formatDateTime(transaction.created_at)}</time>
    </p>
  </li>`;
}

function Transactions({ list, kind, onKind }) {
  // The options carry the kinds' names as labels rather than text, so that looking for
  // "Top-up" on the page finds the rows of the list, not the hidden options of the select.
  return html`<${Card} title=${t("wallet.transactions")} class="transactions" aria-busy=${list.loading ? "true" : "false"}>
    <div class="txn-filter">
      <${Field}
        as="select"
        label=${t("wallet.kindFilter")}
        name="kind"
        value=${kind}
        onChange=${(event) => onKind(event.currentTarget.value)}
      >
        <option value="">${t("wallet.allKinds")}</option>
        ${KINDS.map((value) => html`<option value=${value} label=${t(`transfer.${value}`)}></option>`)}
      <//>
    </div>
    <${Loaded} result=${list}>
      ${(data) =>
        data.results.length
          ? html`<ul class="list txn-list">
                ${data.results.map((row) => html`<${TransactionRow} key=${row.id} transaction=${row} />`)}
              </ul>
              <${Pager} list=${list} />`
          : html`<${Empty}>${kind ? t("wallet.noTransactionsOfKind") : t("wallet.noTransactions")}<//>`}
    <//>
  <//>`;
}

export function WalletScreen() {
  const wallet = useApi("me/wallet");
  const [kind, setKind] = useState("");
  const list = usePaged(withQuery("me/transactions", { kind }));
  const reloadAll = () => {
    wallet.reload();
    list.reload();
  };
  return html`<${Screen} title=${t("nav.wallet")}>
    <${Loaded} result=${wallet}>
      ${(data) => html`<${Summary} wallet=${data} />
        <${TopUpForm} currency=${data.currency} maxTopUp=${data.max_top_up} onDone=${reloadAll} />`}
    <//>
    <${Transactions} list=${list} kind=${kind} onKind=${setKind} />
  <//>`;
}
