// The disputes panel: the citizen's disputes of records and their outcomes.
import { formatDate, t } from "../../i18n.js";
import { Badge, html, usePaged } from "../../ui.js";

import { autoUpholdDate, byCode, Dates, LONG, PagedList, statusWord } from "./common.js";

export const DISPUTE_TONE = { open: "warning", upheld: "ok", rejected: "danger" };

export function DisputeOutcome({ dispute, prefix, automatic, openKey = "open" }) {
  if (dispute.status === "open") {
    return html`<p class="records-outcome">
      ${t(`${prefix}.${openKey}`, { date: formatDate(autoUpholdDate(dispute.opened_at), LONG) })}
    </p>`;
  }
  const key = dispute.status === "upheld" && automatic ? "auto" : dispute.status;
  return html`<p class="records-outcome"><strong>${byCode(prefix, key, statusWord(dispute.status))}</strong></p>`;
}

export function DisputeDetails({ dispute, automatic }) {
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
