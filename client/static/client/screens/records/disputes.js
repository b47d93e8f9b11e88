// The disputes panel: the citizen's disputes of records, where each stands (waiting for
// the merchant that furnished the record, answered, with our staff, decided), and the
// escalation to staff of one the merchant verified.
import { api } from "../../api.js";
import { formatDate, t } from "../../i18n.js";
import { Badge, ConfirmButton, ErrorNotice, html, notify, useAction, usePaged } from "../../ui.js";

import { byCode, Dates, PagedList, statusWord } from "./common.js";
import { disputeSituation } from "./texts.js";

export const DISPUTE_TONE = {
  open: "warning",
  verified: "neutral",
  escalated: "warning",
  corrected: "ok",
  removed_unanswered: "ok",
  upheld: "ok",
  rejected: "danger",
};

/** A quoted text with its label: the citizen's reason, the merchant's answer, staff's note. */
export function Quote({ label, text, lang }) {
  if (!text) return null;
  return html`<div class="records-quote">
    <p class="records-quote-label">${label}</p>
    <p class="records-quote-text" lang=${lang}>${text}</p>
  </div>`;
}

function Escalate({ dispute, onChanged }) {
  const action = useAction((key) =>
    api(`me/disputes/${dispute.id}/escalate`, { method: "POST", body: {}, idempotencyKey: key }),
  );
  const escalate = async () => {
    if ((await action.run()) !== undefined) {
      notify(() => t("records.escalated"));
      onChanged();
    }
  };
  return html`<div class="records-actions">
    <${ErrorNotice} error=${action.error} />
    <${ConfirmButton}
      variant="secondary"
      question=${t("records.escalateQuestion")}
      confirmLabel=${t("records.escalateConfirm")}
      busy=${action.busy}
      onConfirm=${escalate}
    >
      ${t("records.escalate")}
    <//>
  </div>`;
}

/**
 * A dispute of a record as it stands: its status, what it waits for and until when, the
 * merchant's answer, staff's note, and "Escalate to staff" while it may go there.
 */
export function DisputeState({ dispute, onChanged }) {
  const situation = disputeSituation(dispute);
  return html`<div class="records-dispute">
    <p><${Badge} tone=${DISPUTE_TONE[dispute.status] || "neutral"}>${statusWord(dispute.status)}<//></p>
    ${situation.text ? html`<p class="records-outcome">${situation.text}</p>` : null}
    <${Quote} label=${t("records.yourReason")} text=${dispute.reason} />
    <${Quote} label=${t("records.merchantAnswer")} text=${dispute.answer_note} />
    <${Quote} label=${t("records.staffNote")} text=${dispute.resolution_note} />
    <${Dates}
      items=${[
        html`<time datetime=${dispute.opened_at}>${t("records.opened", { date: formatDate(dispute.opened_at) })}</time>`,
        dispute.answered_at
          ? html`<time datetime=${dispute.answered_at}>${t("records.answered", { date: formatDate(dispute.answered_at) })}</time>`
          : null,
        dispute.resolved_at
          ? html`<time datetime=${dispute.resolved_at}>${t("records.decided", { date: formatDate(dispute.resolved_at) })}</time>`
          : null,
      ]}
    />
    ${dispute.can_escalate ? html`<${Escalate} dispute=${dispute} onChanged=${onChanged} />` : null}
  </div>`;
}

export function DisputesPanel({ navigate }) {
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
      ${(dispute) => html`<li key=${dispute.id} id=${`dispute-${dispute.id}`} class="records-item">
        <h2 class="records-item-title">${byCode("event", dispute.event_kind, dispute.event_kind)}</h2>
        <${DisputeState} dispute=${dispute} onChanged=${list.reload} />
      </li>`}
    <//>
  </div>`;
}
