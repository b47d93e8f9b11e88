// The records panel: what the score is made of, each record disputable.
import { useState } from "../../vendor/preact-htm.js";

import { api } from "../../api.js";
import { formatDate, t } from "../../i18n.js";
import { Button, html, Money, notify, usePaged } from "../../ui.js";

import { byCode, Dates, describeRecord, DisputeForm, LONG, PagedList } from "./common.js";

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

export function RecordsPanel({ navigate }) {
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
