// The claims panel: damage claims, listed, and one claim in full (#/records?tab=claims&
// claim=<id>): its lines and evidence, the time left to answer, accept or dispute it, the
// dispute's outcome, and paying what is left.
import { useState } from "../../vendor/preact-htm.js";

import { api, ApiError } from "../../api.js";
import { formatDate, formatMoney, formatNumber, t } from "../../i18n.js";
import {
  Badge,
  Button,
  Card,
  ConfirmButton,
  errorMessage,
  ErrorNotice,
  html,
  Loaded,
  Money,
  notify,
  useAction,
  useApi,
  usePaged,
} from "../../ui.js";

import { claimStatusWord, Dates, DisputeForm, PagedList } from "./common.js";
import { Quote } from "./disputes.js";
import { canAnswer, canPay, claimSituation, unpaidOf } from "./texts.js";

const CLAIM_TONE = {
  awaiting_guest: "warning",
  paid: "ok",
  unpaid: "danger",
  disputed: "warning",
  upheld: "ok",
  rejected: "danger",
  cancelled: "neutral",
};

const claimPath = (id) => `#/records?tab=claims&claim=${encodeURIComponent(id)}`;

function PayClaim({ claim, onPaid }) {
  const action = useAction((key) => api(`me/claims/${claim.id}/pay`, { method: "POST", idempotencyKey: key }));
  const pay = async () => {
    if ((await action.run()) !== undefined) onPaid("paid");
  };
  const short = action.error instanceof ApiError && action.error.code === "insufficient_funds";
  return html`<div class="records-pay">
    <${ConfirmButton}
      question=${t("records.payQuestion", {
        amount: formatMoney(unpaidOf(claim), claim.currency),
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
          ${short ? html`<p><a href="#/wallet">${t("records.topUp")}</a></p>` : null}
        </div>`
      : null}
  </div>`;
}

/** Accept (charged at once) or dispute (staff decide): while the claim awaits the guest. */
function Answer({ claim, onChanged }) {
  const [disputing, setDisputing] = useState(false);
  const accept = useAction((key) => api(`me/claims/${claim.id}/accept`, { method: "POST", idempotencyKey: key }));
  const dispute = (key, reason) =>
    api(`me/claims/${claim.id}/dispute`, { method: "POST", body: { reason }, idempotencyKey: key });
  const accepted = async () => {
    if ((await accept.run()) !== undefined) onChanged("accepted");
  };
  const gone = accept.error?.code === "claim_not_awaiting_guest";
  return html`<div class="records-actions">
    ${gone
      ? html`<div class="notice" role="alert">
          <p>${t("records.answerGone")}</p>
          <${Button} variant="secondary" onClick=${() => onChanged(null)}>${t("common.retry")}<//>
        </div>`
      : html`<${ErrorNotice} error=${accept.error} />`}
    <div class="button-row">
      <${ConfirmButton}
        question=${t("records.acceptQuestion", {
          amount: formatMoney(claim.amount, claim.currency),
          merchant: claim.merchant?.name || "",
        })}
        confirmLabel=${t("records.acceptConfirm")}
        busy=${accept.busy}
        onConfirm=${accepted}
      >
        ${t("records.accept")}
      <//>
      <${Button}
        variant="secondary"
        id="claim-dispute-button"
        aria-expanded=${disputing ? "true" : "false"}
        onClick=${() => setDisputing(!disputing)}
      >
        ${t("records.claimDispute")}
      <//>
    </div>
    ${disputing
      ? html`<${DisputeForm}
          label=${t("records.claimDisputeLabel")}
          hint=${t("records.claimDisputeHint")}
          submitLabel=${t("records.sendDispute")}
          perform=${dispute}
          onDone=${() => onChanged("disputed")}
          onCancel=${() => {
            setDisputing(false);
            document.getElementById("claim-dispute-button")?.focus();
          }}
        />`
      : null}
  </div>`;
}

function size(bytes) {
  const kilobytes = bytes / 1024;
  return kilobytes < 1024
    ? formatNumber(Math.max(1, Math.round(kilobytes)), { style: "unit", unit: "kilobyte" })
    : formatNumber(kilobytes / 1024, { style: "unit", unit: "megabyte", maximumFractionDigits: 1 });
}

function Evidence({ items }) {
  return html`<h3>${t("records.evidence")}</h3>
    ${items.length
      ? html`<ul class="records-evidence">
          ${items.map(
            (item) => html`<li key=${item.id}>
              <a href=${item.url} target="_blank" rel="noopener">${item.name}</a>
              <span class="muted"> · ${size(item.size)}</span>
            </li>`,
          )}
        </ul>`
      : html`<p class="muted">${t("records.evidenceNone")}</p>`}`;
}

function Lines({ claim }) {
  const lines = claim.lines || [];
  if (!lines.length) return claim.description ? html`<p>${claim.description}</p>` : null;
  return html`<h3>${t("records.claimLines")}</h3>
    <table class="records-lines">
      <tbody>
        ${lines.map(
          (line, index) => html`<tr key=${index}>
            <td>${line.description}</td>
            <td><${Money} amount=${line.amount} currency=${claim.currency} /></td>
          </tr>`,
        )}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">${t("records.claimTotal")}</th>
          <td><${Money} amount=${claim.amount} currency=${claim.currency} /></td>
        </tr>
      </tfoot>
    </table>`;
}

function Head({ claim }) {
  return html`<div class="row">
      <h2 class="records-item-title">${claim.merchant?.name || t("transfer.claim")}</h2>
      <${Badge} tone=${CLAIM_TONE[claim.status] || "neutral"}>${claimStatusWord(claim.status)}<//>
    </div>
    <p class="records-claim-total"><${Money} amount=${claim.amount} currency=${claim.currency} /></p>`;
}

/** One claim in full, with what the citizen can do about it now. */
function ClaimDetail({ id, onBack }) {
  const result = useApi(`me/claims/${encodeURIComponent(id)}`);
  const changed = (what) => {
    if (what) notify(() => t(`records.${what === "disputed" ? "claimDisputeSent" : what}`));
    result.reload();
    setTimeout(() => document.getElementById("claim-detail")?.focus(), 0);
  };
  return html`<p>
      <a href="#/records?tab=claims" onClick=${onBack}>${t("records.allClaims")}</a>
    </p>
    <${Loaded} result=${result}>
      ${(claim) => {
        const situation = claimSituation(claim);
        const dispute = claim.dispute;
        return html`<${Card} class="records-claim" id="claim-detail" tabindex="-1">
          <${Head} claim=${claim} />
          ${situation ? html`<p class="records-outcome">${situation}</p>` : null}
          <${Lines} claim=${claim} />
          <${Evidence} items=${claim.evidence || []} />
          <dl class="records-amounts">
            <div>
              <dt>${t("records.claimPaid")}</dt>
              <dd><${Money} amount=${claim.paid_amount} currency=${claim.currency} /></dd>
            </div>
            <div>
              <dt>${t("records.claimUnpaid")}</dt>
              <dd><${Money} amount=${unpaidOf(claim)} currency=${claim.currency} /></dd>
            </div>
          </dl>
          ${dispute
            ? html`<section class="records-claim-dispute" aria-labelledby="claim-dispute-title">
                <h3 id="claim-dispute-title">${t("records.claimDisputeTitle")}</h3>
                <${Quote} label=${t("records.yourReason")} text=${dispute.reason} />
                <${Quote} label=${t("records.staffNote")} text=${dispute.resolution_note} />
              </section>`
            : null}
          <${Dates}
            items=${[
              html`<time datetime=${claim.created_at}>${t("records.claimMade", { date: formatDate(claim.created_at) })}</time>`,
              claim.paid_at
                ? html`<time datetime=${claim.paid_at}>${t("records.claimPaidOn", { date: formatDate(claim.paid_at) })}</time>`
                : null,
            ]}
          />
          ${canAnswer(claim) ? html`<${Answer} claim=${claim} onChanged=${changed} />` : null}
          ${canPay(claim) ? html`<${PayClaim} claim=${claim} onPaid=${changed} />` : null}
        <//>`;
      }}
    <//>`;
}

function ClaimItem({ claim }) {
  const situation = claimSituation(claim);
  return html`<li id=${`claim-${claim.id}`} class="records-item">
    <${Head} claim=${claim} />
    ${situation ? html`<p class="records-outcome">${situation}</p>` : null}
    <${Dates}
      items=${[
        html`<time datetime=${claim.created_at}>${t("records.claimMade", { date: formatDate(claim.created_at) })}</time>`,
        claim.lines?.length > 1 ? claim.lines.map((line) => line.description).join(", ") : claim.description,
      ]}
    />
    <p><a href=${claimPath(claim.id)}>${t("records.openClaim")}</a></p>
  </li>`;
}

export function ClaimsPanel({ params = {}, navigate }) {
  const list = usePaged(params.claim ? null : "me/claims");
  if (params.claim) {
    const back = (event) => {
      event.preventDefault();
      navigate("records", { tab: "claims" });
    };
    return html`<${ClaimDetail} key=${params.claim} id=${params.claim} onBack=${back} />`;
  }
  return html`<${PagedList} list=${list} empty=${t("records.claimsEmpty")} label=${t("records.tab.claims")}>
    ${(claim) => html`<${ClaimItem} key=${claim.id} claim=${claim} />`}
  <//>`;
}
