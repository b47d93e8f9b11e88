// Amounts as the citizen types them, and the limits on moving money in and out, said in
// the citizen's language. Pure (no DOM): the node tests import it.
import { currencyDigits, formatMoney, formatNumber, has, language, parseMoney, t } from "../../i18n.js";

import "../../strings.js";
import "./messages.js";

/** A major-unit amount as the person would type it here: 25.5 → "25.50" or "25,50". */
export function typedAmount(major, currency) {
  const digits = Number.isInteger(major) ? 0 : currencyDigits(currency);
  return formatNumber(major, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false });
}

/**
 * What was typed, checked against the most allowed now (`max`, minor units; none when not
 * an integer): {amount} in minor units, or {problem}: "required", "zero", "unreadable" or
 * "over".
 */
export function readAmount(text, currency, max = null) {
  if (!String(text).trim()) return { problem: "required" };
  const amount = parseMoney(text, currency);
  if (amount !== null) return Number.isInteger(max) && amount > max ? { problem: "over" } : { amount };
  // Zero ("0", "0.00") and negative amounts are numbers, but not amounts to move.
  if ((/^[\s0.,\u00a0\u202f']+$/.test(text) && /0/.test(text)) || /^\s*[-\u2212]\s*\d/.test(text)) {
    return { problem: "zero" };
  }
  return { problem: "unreadable" };
}

/**
 * A problem `readAmount` found, as a field error in the current language. `over` is the
 * message for an amount over `max` ("wallet.topUpOver", "wallet.withdrawOver").
 */
export function amountError(problem, currency, { max = null, over = "wallet.topUpOver" } = {}) {
  if (problem === "required") return { code: "required" };
  if (problem === "over") return { message: t(over, { max: formatMoney(max, currency) }) };
  if (problem === "zero") return { message: t("wallet.amountZero") };
  return { message: t("wallet.amountUnreadable", { example: typedAmount(25.5, currency) }) };
}

/**
 * A limit the server refused an amount for, as a sentence: `code` is "top_up_limit" or
 * "withdrawal_limit", `limit` in minor units, `period` "day", "month" or "balance".
 * Null when the refusal does not say its limit.
 */
export function limitSentence(code, limit, period, currency) {
  if (!Number.isInteger(limit)) return null;
  const key = `wallet.limit.${code}.${period}`;
  const vars = { limit: formatMoney(limit, currency) };
  if (has(key)) return t(key, vars);
  const other = `wallet.limit.${code}.other`;
  return has(other) ? t(other, vars) : null;
}

/**
 * A refusal of a top-up or a withdrawal (an ApiError) as one sentence in the current
 * language, with the most still allowed now (`now`, minor units) when it is known; null
 * when it is not one of these refusals (the app's usual error message says it).
 */
export function refusalSentence(error, currency, now = null) {
  const problem = error?.problem || {};
  if (error?.code === "top_up_limit" || error?.code === "withdrawal_limit") {
    const sentence = limitSentence(error.code, problem.limit, problem.period, currency) || t(`error.${error.code}`);
    if (!Number.isInteger(now)) return sentence;
    const key = error.code === "top_up_limit" ? "wallet.topUpNow" : "wallet.withdrawNow";
    if (now <= 0) return sentence;
    // Chinese sentences follow each other with no space between them.
    const gap = language().startsWith("zh") ? "" : " ";
    return `${sentence}${gap}${t(key, { max: formatMoney(now, currency) })}`;
  }
  if (error?.code === "insufficient_funds") return t("wallet.notEnough");
  if (error?.code === "no_payout_destination") return t("error.no_payout_destination");
  return null;
}
