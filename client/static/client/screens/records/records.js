// The records panel: what the score is made of, each record disputable once; a disputed
// record shows its dispute where it stands (it still counts until the merchant answers).
import { useState } from "../../vendor/preact-htm.js";

import { api } from "../../api.js";
import { formatDate, t } from "../../i18n.js";
import { Button, html, Money, notify, useApi, usePaged } from "../../ui.js";

import { byCode, Dates, describeRecord, DisputeForm, PagedList } from "./common.js";
import { DisputeState } from "./disputes.js";
import { countsSituation } from "./texts.js";

// The citizen's disputes, to show each beside its record (one page: a person has few).
const DISPUTES = "me/disputes?page_size=100";

function RecordItem({ event, dispute, open, onOpen, onClose, onDisputed, onChanged }) {
  const counts = countsSituation(event, dispute);
  const disputable = event.status === "active" && !event.dispute_id;
  const perform = (key, reason) =>
    api("me/disputes", {
      method: "POST",
      body: { event_id: event.id, reason },
      idempotencyKey: key,
    });
  const about = describeRecord(event);
  const detail = about ? html`<span lang=${about.lang || undefined}>${about.text}</span>` : null;
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
    ${dispute ? html`<${DisputeState} dispute=${dispute} onChanged=${onChanged} />` : null}
    ${event.dispute_id && !dispute
      ? html`<p><a href="#/records?tab=disputes">${t("records.seeDispute")}</a></p>`
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

export function RecordsPanel() {
  const list = usePaged("me/events");
  const disputes = useApi(DISPUTES);
  const [openId, setOpenId] = useState(null);
  const byEvent = new Map((disputes.data?.results || []).map((dispute) => [dispute.event_id, dispute]));
  const reload = () => {
    list.reload();
    disputes.reload();
  };
  const disputed = (id) => {
    setOpenId(null);
    notify(() => t("records.disputeSent"));
    reload();
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
        dispute=${byEvent.get(event.id) || null}
        open=${openId === event.id}
        onOpen=${() => setOpenId(event.id)}
        onClose=${() => setOpenId(null)}
        onDisputed=${() => disputed(event.id)}
        onChanged=${reload}
      />`}
    <//>
  </div>`;
}
