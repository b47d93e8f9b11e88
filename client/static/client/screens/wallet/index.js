// Wallet: what is in it (balance, held for deposits, available), adding money to it through
// the payment provider's page, withdrawing it, the top-ups and withdrawals, and every
// movement, newest first, filterable by kind.
import { useCallback, useEffect, useRef, useState } from "../../vendor/preact-htm.js";

import { api, withQuery } from "../../api.js";
import { formatDateTime, formatMoney, formatNumber, t } from "../../i18n.js";
import {
  Badge,
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
  useLoad,
  usePaged,
} from "../../ui.js";
import { amountError, readAmount, refusalSentence, typedAmount } from "./limits.js";
import { checkoutTarget, mergeMoves, statusBadge, topUpOutcome } from "./moves.js";

const KINDS = ["top_up", "payment", "hold_capture", "claim", "refund", "adjustment", "withdrawal", "payout_returned"];
const QUICK_PICKS = [100, 200, 500]; // major units

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

/** The most that can be moved now, when the server says it (an integer), else null. */
function limitOf(value) {
  return Number.isInteger(value) ? value : null;
}

/**
 * An amount form's field error: what was found here first, else the server's refusal as
 * a sentence (a limit, not enough money...), else the server's error on `amount`.
 */
function amountFieldError(invalid, error, currency, { max, over }) {
  if (invalid) return amountError(invalid, currency, { max, over });
  const refusal = error ? refusalSentence(error, currency, max) : null;
  if (refusal) return { message: refusal };
  return error?.fields?.amount || null;
}

/** An error the field does not show: said above the button. */
function FormError({ error, shown }) {
  return error && !shown ? html`<${ErrorNotice} error=${error} />` : null;
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

/**
 * What became of a top-up paid on the provider's page (the route back from it,
 * #/wallet?top_up=<id>): arrived, declined, expired, or still pending with "check again".
 */
function TopUpOutcome({ id, onSettled, onClose }) {
  const result = useApi(`me/top-ups/${encodeURIComponent(id)}`);
  const status = result.data?.status;
  const seen = useRef(null);
  useEffect(() => {
    // Settled after the wallet was loaded (a "check again" that found it): show the new one.
    if (seen.current === "pending" && status && status !== "pending") onSettled();
    if (status) seen.current = status;
  }, [status, onSettled]);
  return html`<${Card} title=${t("wallet.outcome")} class="top-up-outcome">
    <div aria-live="polite">
      <${Loaded} result=${result}>
        ${(topUp) => {
          const outcome = topUpOutcome(topUp);
          const checkout = checkoutTarget(topUp);
          return html`<div class=${`notice notice-${outcome.tone}`}><p>${outcome.text}</p></div>
            <div class="button-row">
              ${outcome.settled
                ? html`<${Button} variant="secondary" onClick=${onClose}>${t("common.close")}<//>`
                : html`<${Button} variant="secondary" busy=${result.loading} onClick=${result.reload}>${t("wallet.checkAgain")}<//>`}
              ${checkout ? html`<a class="button button-secondary" href=${checkout}>${t("wallet.toCheckout")}</a>` : null}
            </div>`;
        }}
      <//>
    </div>
  <//>`;
}

/** Top up: paid at once (the new wallet shown), or on the provider's page the app goes to. */
function TopUpForm({ wallet, onDone, onRefused }) {
  const currency = wallet.currency;
  const max = limitOf(wallet.top_up_limit) ?? limitOf(wallet.max_top_up);
  const [text, setText] = useState("");
  const [invalid, setInvalid] = useState(null);
  const [leaving, setLeaving] = useState(false);
  const action = useAction(
    (idempotencyKey, amount) =>
      api("me/top-ups", { method: "POST", body: { amount }, idempotencyKey }),
  );
  useEffect(() => {
    // Back from the provider's page with the browser's Back button (the page as it was
    // left, from the back-forward cache): the form is usable again.
    const back = (event) => event.persisted && setLeaving(false);
    window.addEventListener("pageshow", back);
    return () => window.removeEventListener("pageshow", back);
  }, []);

  const change = (value) => {
    if (value === text) return;
    setText(value);
    setInvalid(null);
    // A different amount is a different request: it gets its own idempotency key.
    action.reset();
  };

  const submit = async (event) => {
    event.preventDefault();
    if (leaving) return;
    const read = readAmount(text, currency, max);
    if (read.problem) {
      setInvalid(read.problem);
      event.currentTarget.querySelector("input")?.focus();
      return;
    }
    const result = await action.run(read.amount);
    if (!result) {
      onRefused();
      return;
    }
    const checkout = checkoutTarget(result);
    if (checkout) {
      // Paid on the provider's page, which sends the citizen back to #/wallet?top_up=<id>.
      setLeaving(true);
      window.location.assign(checkout);
      return;
    }
    setText("");
    if (result.status === "succeeded" && result.transaction) {
      notify(() => t("wallet.added", { amount: formatMoney(result.transaction.amount, result.transaction.currency || currency) }));
      onDone();
    } else {
      onDone({ top_up: result.id });
    }
  };

  // The single top-up's cap says so; a lower limit (today's, this month's, the balance's)
  // says what is left now.
  const single = max !== null && max === limitOf(wallet.max_top_up);
  let over = single ? "wallet.amountMax" : "wallet.topUpOver";
  if (max === 0) over = "wallet.topUpNone";
  const fieldError = amountFieldError(invalid, action.error, currency, { max, over });
  const example = typedAmount(25.5, currency);
  let now = null;
  if (max !== null && !single) now = max > 0 ? t("wallet.topUpNow", { max: formatMoney(max, currency) }) : t("wallet.topUpNone");
  const hint = t("wallet.amountHint", { currency, example });
  return html`<${Card} title=${t("wallet.topUpTitle")} class="top-up">
    <form class="form" onSubmit=${submit} novalidate>
      <${Field}
        label=${t("wallet.amount")}
        hint=${now ? html`${hint}<br />${now}` : hint}
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
      <${FormError} error=${action.error} shown=${fieldError} />
      ${leaving ? html`<p class="muted" role="status">${t("wallet.leaving")}</p>` : null}
      <div class="button-row">
        <${Button} type="submit" busy=${action.busy || leaving}>${t("wallet.topUp")}<//>
      </div>
    </form>
  <//>`;
}

/** Withdraw to where the money came from (the latest top-up's payment source), asked first. */
function WithdrawForm({ wallet, onDone, onRefused }) {
  const currency = wallet.currency;
  const destination = wallet.payout_destination;
  const max = limitOf(wallet.withdrawal_limit);
  const [text, setText] = useState("");
  const [invalid, setInvalid] = useState(null);
  const [asking, setAsking] = useState(null); // the amount asked about, in minor units
  const confirmRef = useRef(null);
  const buttons = useRef(null);
  const wasAsking = useRef(false);
  const action = useAction(
    (idempotencyKey, amount) =>
      api("me/withdrawals", { method: "POST", body: { amount }, idempotencyKey }),
  );
  useEffect(() => {
    // Asking: the focus goes to "withdraw now"; answered: back to "withdraw", never the page.
    if (asking !== null) confirmRef.current?.focus();
    else if (wasAsking.current) buttons.current?.querySelector("button")?.focus();
    wasAsking.current = asking !== null;
  }, [asking]);

  if (!destination) {
    return html`<${Card} title=${t("wallet.withdrawTitle")} class="withdraw">
      <p class="muted">${t("error.no_payout_destination")}</p>
    <//>`;
  }

  const change = (value) => {
    if (value === text) return;
    setText(value);
    setInvalid(null);
    setAsking(null);
    action.reset();
  };

  const ask = (event) => {
    event.preventDefault();
    const read = readAmount(text, currency, max);
    if (read.problem) {
      setInvalid(read.problem);
      event.currentTarget.querySelector("input")?.focus();
      return;
    }
    setAsking(read.amount);
  };

  const send = async () => {
    const amount = asking;
    setAsking(null);
    const result = await action.run(amount);
    if (!result) {
      onRefused();
      return;
    }
    setText("");
    notify(() => t("wallet.withdrawn", { amount: formatMoney(result.amount, result.currency || currency), destination: result.destination || destination }));
    onDone();
  };

  const fieldError = amountFieldError(invalid, action.error, currency, { max, over: "wallet.withdrawOver" });
  const amount = asking === null ? "" : formatMoney(asking, currency);
  return html`<${Card} title=${t("wallet.withdrawTitle")} class="withdraw">
    <p>${t("wallet.withdrawTo", { destination })}</p>
    ${max === 0
      ? html`<p class="muted">${t("wallet.withdrawNone")}</p>`
      : html`<form class="form" onSubmit=${ask} novalidate>
          <${Field}
            label=${t("wallet.withdrawAmount")}
            hint=${max === null ? null : t("wallet.withdrawNow", { max: formatMoney(max, currency) })}
            error=${fieldError}
            name="withdraw-amount"
            type="text"
            inputmode="decimal"
            autocomplete="off"
            enterkeyhint="done"
            value=${text}
            onInput=${(event) => change(event.currentTarget.value)}
          />
          <${FormError} error=${action.error} shown=${fieldError} />
          <div class="confirm-wrap" ref=${buttons}>
          ${asking === null
            ? html`<div class="button-row">
                <${Button} type="submit" variant="secondary" busy=${action.busy}>${t("wallet.withdraw")}<//>
              </div>`
            : html`<div class="confirm" role="group" aria-label=${t("wallet.withdrawAsk", { amount, destination })}>
                <p>${t("wallet.withdrawAsk", { amount, destination })}</p>
                <div class="button-row">
                  <button type="button" class="button button-primary" ref=${confirmRef} onClick=${send}>
                    ${t("wallet.withdrawConfirm")}
                  </button>
                  <${Button} variant="secondary" onClick=${() => setAsking(null)}>${t("common.cancel")}<//>
                </div>
              </div>`}
          </div>
        </form>`}
  <//>`;
}

const MOVES_PAGE = 10;

/** The latest top-ups and withdrawals (a first page of each), as one list, newest first. */
function loadMoves(signal) {
  const load = (path) => api(withQuery(path, { page_size: MOVES_PAGE }), { signal });
  return Promise.all([load("me/top-ups"), load("me/withdrawals")]).then(([topUps, withdrawals]) =>
    mergeMoves(topUps, withdrawals),
  );
}

function Moves({ moves }) {
  return html`<${Card} title=${t("wallet.moves")} class="moves" aria-busy=${moves.loading ? "true" : "false"}>
    <${Loaded} result=${moves}>
      ${(rows) =>
        rows.length
          ? html`<ul class="list txn-list">
              ${rows.map((row) => {
                const badge = statusBadge(row.status);
                return html`<li class="txn move" key=${`${row.type}-${row.id}`}>
                  <div class="row">
                    <span class="txn-kind">${t(`transfer.${row.type}`)} <${Badge} tone=${badge.tone}>${badge.label}<//></span>
                    <span class=${`money txn-amount ${row.amount >= 0 ? "money-in" : "money-out"}`}>
                      <span class="visually-hidden">${t(row.amount >= 0 ? "wallet.in" : "wallet.out")}: </span>
                      ${signedMoney(row.amount, row.currency)}
                    </span>
                  </div>
                  ${row.destination ? html`<p class="txn-description">${t("wallet.moveTo", { destination: row.destination })}</p>` : null}
                  <p class="muted txn-when">
                    <time datetime=${row.created_at}>${formatDateTime(row.created_at)}</time>
                  </p>
                </li>`;
              })}
            </ul>`
          : html`<${Empty}>${t("wallet.noMoves")}<//>`}
    <//>
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

export function WalletScreen({ params = {}, navigate }) {
  const wallet = useApi("me/wallet");
  const [kind, setKind] = useState("");
  const list = usePaged(withQuery("me/transactions", { kind }));
  const moves = useLoad(loadMoves, ["moves"]);
  const reload = useRef(null);
  reload.current = () => {
    wallet.reload();
    list.reload();
    moves.reload();
  };
  const reloadAll = useCallback(() => reload.current(), []);
  // Money moved: everything again (an older top-up's outcome goes), or the route that
  // shows what became of this top-up.
  const done = (route = null) => {
    if (route || params.top_up) navigate("wallet", route);
    if (!route) reloadAll();
  };
  return html`<${Screen} title=${t("nav.wallet")}>
    ${params.top_up
      ? html`<${TopUpOutcome}
          key=${params.top_up}
          id=${params.top_up}
          onSettled=${reloadAll}
          onClose=${() => navigate("wallet")}
        />`
      : null}
    <${Loaded} result=${wallet}>
      ${(data) => html`<${Summary} wallet=${data} />
        <${TopUpForm} wallet=${data} onDone=${done} onRefused=${wallet.reload} />
        <${WithdrawForm} wallet=${data} onDone=${done} onRefused=${wallet.reload} />`}
    <//>
    <${Moves} moves=${moves} />
    <${Transactions} list=${list} kind=${kind} onKind=${setKind} />
  <//>`;
}
