// The claims panel: damage claims, to pay or to dispute.
import { useState } from "../../vendor/preact-htm.js";

import { api, ApiError } from "../../api.js";
import { formatDate, formatMoney, t } from "../../i18n.js";
import { Badge, Button, ConfirmButton, errorMessage, html, Money, notify, useAction, usePaged } from "../../ui.js";

import { claimStatusWord, Dates, DisputeForm, PagedList, statusWord } from "./common.js";
import { DISPUTE_TONE, DisputeDetails, DisputeOutcome } from "./disputes.js";

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

export function ClaimsPanel() {
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
