// What the records screen says about a record, a dispute, a claim and a booking, as
// sentences in the citizen's language, from the API's typed fields (statuses, dates,
// amounts; never its English text). Pure (no DOM): the node tests import it.
import { formatDate, formatDateTime, formatMoney, has, t } from "../../i18n.js";

import "../../strings.js";
import "./messages.js";

const HOUR = 3600 * 1000;
export const LONG = { dateStyle: "long" };

/**
 * How long is left until `deadline` (an ISO instant) at `now` (ms), in words: "2 days and
 * 5 hours left", "5 hours left", "less than an hour left"; null once it has passed.
 */
export function timeLeft(deadline, now = Date.now()) {
  const left = Date.parse(deadline) - now;
  if (!(left > 0)) return null;
  const hours = Math.floor(left / HOUR);
  if (hours < 1) return t("records.left.minutes");
  const days = Math.floor(hours / 24);
  if (!days) return t("records.left.hours", { count: hours });
  const rest = hours % 24;
  return rest
    ? t("records.left.daysHours", { days, hours: rest, count: days })
    : t("records.left.days", { count: days });
}

/** The unpaid rest of a claim: the server's figure when it gives one, else amount − paid. */
export function unpaidOf(claim) {
  if (Number.isInteger(claim.unpaid_amount)) return claim.unpaid_amount;
  return Math.max(0, (claim.amount || 0) - (claim.paid_amount || 0));
}

/** Whether the guest can still answer a claim (accept or dispute) at `now`. */
export function canAnswer(claim, now = Date.now()) {
  return claim.status === "awaiting_guest" && timeLeft(claim.respond_by, now) !== null;
}

/** Whether what is left of a claim can be paid from the wallet now. */
export function canPay(claim) {
  return (claim.status === "unpaid" || (claim.status === "rejected" && !claim.paid_at)) && unpaidOf(claim) > 0;
}

/** Where a claim stands, in one sentence; null when its status says it all. */
export function claimSituation(claim, now = Date.now()) {
  const amount = formatMoney(unpaidOf(claim), claim.currency);
  switch (claim.status) {
    case "awaiting_guest": {
      const left = timeLeft(claim.respond_by, now);
      return left
        ? t("records.claim.awaiting", { date: formatDateTime(claim.respond_by), left })
        : t("records.claim.late");
    }
    case "disputed":
      return t("records.claim.disputed");
    case "upheld":
      return t("records.claim.upheld");
    case "rejected":
      return canPay(claim) ? t("records.claim.rejectedUnpaid", { amount }) : t("records.claim.rejected");
    case "unpaid":
      return t("records.claim.unpaid", { amount });
    case "paid":
      return claim.charged_at && claim.accepted_at === null ? t("records.claim.unanswered") : null;
    default:
      return null;
  }
}

/**
 * Where a dispute of a record stands: {tone, text}. `open` waits for the merchant that
 * furnished the record (until `respond_by`); `verified` may go to staff once.
 */
export function disputeSituation(dispute) {
  const date = dispute.respond_by ? formatDate(dispute.respond_by, LONG) : "";
  switch (dispute.status) {
    case "open":
      return { tone: "warning", text: t("records.outcome.open", { date }) };
    case "verified":
      return {
        tone: "neutral",
        text: t(dispute.can_escalate ? "records.outcome.verified" : "records.outcome.verifiedFinal"),
      };
    case "escalated":
      return { tone: "warning", text: t("records.outcome.escalated") };
    case "corrected":
    case "removed_unanswered":
    case "upheld":
      return { tone: "ok", text: t(`records.outcome.${dispute.status}`) };
    case "rejected":
      return { tone: "danger", text: t("records.outcome.rejected") };
    default:
      return { tone: "neutral", text: "" };
  }
}

/**
 * Whether a record counts, in words: {tone, text}. A disputed record still counts until
 * the merchant answers (or staff decide, once escalated).
 */
export function countsSituation(event, dispute = null, now = Date.now()) {
  if (event.status === "removed") return { tone: "neutral", text: t("records.removed") };
  if (event.status === "disputed") {
    const staff = dispute?.status === "escalated";
    return { tone: "warning", text: t(staff ? "records.disputedStaff" : "records.disputedCounts") };
  }
  if (event.counts) {
    return { tone: "ok", text: t("records.countsUntil", { date: formatDate(event.counts_until, LONG) }) };
  }
  if (event.settled_at && Date.parse(event.settled_at) <= now) {
    return { tone: "neutral", text: t("records.settled", { date: formatDate(event.settled_at, LONG) }) };
  }
  if (Date.parse(event.counts_until) <= now) {
    return { tone: "neutral", text: t("records.expired", { date: formatDate(event.counts_until, LONG) }) };
  }
  return { tone: "neutral", text: t("records.notYet") };
}

/** The deposit of a booking and what became of it, in one sentence. */
export function depositText(booking) {
  const money = (amount) => formatMoney(amount, booking.currency);
  if (!booking.deposit_amount) return t("records.noDeposit");
  const parts = [];
  if (booking.waived_amount) parts.push(t("records.waived", { amount: money(booking.waived_amount) }));
  if (booking.hold_amount) {
    const amount = money(booking.hold_amount);
    let said;
    if (booking.status === "hold_failed") said = t("records.notHeld", { amount });
    else if (booking.status === "cancelled") said = t("records.holdEnded", { amount });
    else if (booking.status !== "confirmed") said = t("records.wasHeld", { amount });
    else if (booking.hold_placed === false && booking.hold_due_at) {
      said = t("records.heldFrom", { amount, date: formatDate(booking.hold_due_at) });
    } else said = t("records.held", { amount });
    parts.push(said);
  }
  const detail = parts.length === 2 ? t("records.and", { first: parts[0], second: parts[1] }) : parts[0] || "";
  return detail ? t("records.deposit", { amount: money(booking.deposit_amount), detail }) : money(booking.deposit_amount);
}

/** Why a booking is not going ahead as booked (cancelled, or its hold failed); else null. */
export function bookingProblem(booking) {
  if (booking.status === "cancelled") {
    return t(booking.cancel_reason === "consent_revoked" ? "records.cancelledRevoked" : "records.cancelledOther");
  }
  if (booking.status === "hold_failed") return t("records.holdFailed");
  return null;
}

/**
 * How a booking ended, in words for its kind of merchant: a car rental was not a stay.
 * (A kind of merchant without words of its own gets the general ones.)
 */
export function outcomeWord(booking) {
  const outcome = booking.outcome;
  if (!outcome) return "";
  const category = booking.merchant?.category;
  for (const key of [`outcome.${outcome}.${category}`, `outcome.${outcome}`]) {
    if (has(key)) return t(key);
  }
  return outcome;
}
