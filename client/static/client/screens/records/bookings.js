// The bookings panel: the stays behind the claims, with their deposits.
import { formatDate, formatMoney, t } from "../../i18n.js";
import { Badge, html, usePaged } from "../../ui.js";

import { byCode, claimStatusWord, Dates, PagedList, statusWord } from "./common.js";
import { bookingProblem, depositText, outcomeWord } from "./texts.js";

const BOOKING_TONE = { confirmed: "neutral", completed: "ok", hold_failed: "danger", cancelled: "neutral" };
const OUTCOME_TONE = { ok: "ok", damage: "danger", no_show: "warning" };

function BookingItem({ booking }) {
  const claim = booking.claim;
  const problem = bookingProblem(booking);
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
    ${problem ? html`<p class=${`notice${booking.status === "hold_failed" ? " notice-error" : ""}`}>${problem}</p>` : null}
    ${booking.outcome
      ? html`<p class="records-outcome">
          <${Badge} tone=${OUTCOME_TONE[booking.outcome] || "neutral"}>${outcomeWord(booking)}<//>
        </p>`
      : null}
    ${claim
      ? html`<p>
          <a href=${`#/records?tab=claims&claim=${encodeURIComponent(claim.id)}`}
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
        booking.checked_in_at
          ? html`<time datetime=${booking.checked_in_at}>${t("records.checkedIn", { date: formatDate(booking.checked_in_at) })}</time>`
          : null,
        booking.completed_at
          ? html`<time datetime=${booking.completed_at}>${t("records.completedOn", { date: formatDate(booking.completed_at) })}</time>`
          : null,
      ]}
    />
  </li>`;
}

export function BookingsPanel() {
  const list = usePaged("me/bookings");
  return html`<${PagedList} list=${list} empty=${t("records.bookingsEmpty")} label=${t("records.tab.bookings")}>
    ${(booking) => html`<${BookingItem} key=${booking.id} booking=${booking} />`}
  <//>`;
}
