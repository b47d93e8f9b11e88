// The bookings panel: the stays behind the claims, with their deposits.
import { formatDate, formatMoney, t } from "../../i18n.js";
import { Badge, html, usePaged } from "../../ui.js";

import { byCode, claimStatusWord, Dates, PagedList, statusWord } from "./common.js";

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

export function BookingsPanel({ navigate }) {
  const list = usePaged("me/bookings");
  return html`<${PagedList} list=${list} empty=${t("records.bookingsEmpty")} label=${t("records.tab.bookings")}>
    ${(booking) => html`<${BookingItem} key=${booking.id} booking=${booking} navigate=${navigate} />`}
  <//>`;
}
