// Money moved in and out through the payment provider: top-ups and withdrawals as one
// history, their statuses, and what became of a top-up paid on the provider's page.
// Pure (no DOM): the node tests import it.
import { formatMoney, has, t } from "../../i18n.js";

import "./messages.js";

const TONES = {
  pending: "warning",
  succeeded: "ok",
  paid: "ok",
  failed: "danger",
  expired: "neutral",
};

/** A row's time, for ordering (a time that cannot be read sorts last). */
function when(row) {
  const time = Date.parse(row.created_at);
  return Number.isNaN(time) ? -Infinity : time;
}

/**
 * The first page of top-ups and the first page of withdrawals (the API's pages:
 * {results, next}) as one list, newest first: each row is the API's item with `type`
 * "top_up" or "withdrawal", and a signed `amount` (a withdrawal is money out). A list with
 * more pages says nothing of what came before its oldest row: rows of the other list
 * older than that are left out, so the list has no gap. Rows at the same instant keep
 * withdrawals first, and otherwise their lists' order.
 */
export function mergeMoves(topUps = {}, withdrawals = {}) {
  const pages = [
    [withdrawals, (row) => ({ ...row, type: "withdrawal", amount: -Math.abs(row.amount) })],
    [topUps, (row) => ({ ...row, type: "top_up" })],
  ];
  let since = -Infinity;
  for (const [page] of pages) {
    const results = page.results || [];
    if (page.next && results.length) since = Math.max(since, Math.min(...results.map(when)));
  }
  return pages
    .flatMap(([page, shape]) => (page.results || []).map(shape))
    .map((row, index) => ({ row, index }))
    .filter(({ row }) => when(row) >= since)
    .sort((a, b) => when(b.row) - when(a.row) || a.index - b.index)
    .map(({ row }) => row);
}

/** A status as a badge: {tone, label} in the current language (unknown: as it came). */
export function statusBadge(status) {
  const key = `wallet.status.${status}`;
  return { tone: TONES[status] || "neutral", label: has(key) ? t(key) : String(status) };
}

/**
 * What became of a top-up (GET me/top-ups/<id>): {tone, text, settled}. `tone` is "ok",
 * "error" or "info"; `settled` is false while the payment may still arrive.
 */
export function topUpOutcome(topUp) {
  const amount = formatMoney(topUp.amount, topUp.currency);
  const status = has(`wallet.outcome.${topUp.status}`) ? topUp.status : "pending";
  const tone = { succeeded: "ok", failed: "error", expired: "info", pending: "info" }[status];
  return { tone, text: t(`wallet.outcome.${status}`, { amount }), settled: status !== "pending" };
}

/**
 * Where the browser goes to pay a pending top-up: the provider's page (`checkout_url`, a
 * path on this site for the sandbox, or a web address), or null when there is none.
 */
export function checkoutTarget(topUp) {
  const url = topUp?.status === "pending" ? topUp.checkout_url : null;
  if (typeof url !== "string") return null;
  return /^(\/(?!\/)|https?:\/\/)/.test(url) ? url : null;
}
