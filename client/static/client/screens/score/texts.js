// The score's parts in words, by code; the server's English only as the fallback.
// Pure (no DOM): the node tests import it.
import { formatNumber, has, t } from "../../i18n.js";
import "../../strings.js";

import "./messages.js";

/**
 * A factor's name: this screen's own words for the factor when it has them, else the
 * name of the fact it scores (the same words everywhere), else the server's.
 */
export function factorLabel(factor) {
  for (const key of [`score.factor.${factor.key}`, `fact.${factor.fact}`]) {
    if (has(key)) return t(key);
  }
  return factor.label;
}

/** How long an account has been open: "2 years", "5 months", "12 days" (rounded down). */
export function ageText(days) {
  if (days >= 365) return t("score.age.years", { count: Math.floor(days / 365) });
  if (days >= 30) return t("score.age.months", { count: Math.floor(days / 30) });
  return t("score.age.days", { count: Math.max(0, days) });
}

/**
 * A reason's label and tip in the current language. `score` (the whole answer, with its
 * factors) lets a reason be said at the citizen's own value: the account's age, never
 * "your account is new" of an account open for two years.
 */
export function reasonTexts(reason, score = null) {
  const label = `score.reason.${reason.code}`;
  const tip = `score.tip.${reason.code}`;
  const texts = {
    label: has(label) ? t(label) : reason.label,
    tip: has(tip) ? t(tip) : reason.tip,
  };
  if (reason.code === "account_age" && score?.factors) {
    const days = factValue(score, "account_age_days", null);
    if (Number.isInteger(days)) texts.label = t("score.reason.accountAge", { age: ageText(days) });
  }
  return texts;
}

export function identityName(level) {
  const key = `score.identity.${level}`;
  return has(key) ? t(key) : formatNumber(level);
}

/** A factor's value in words, by the fact it scores (null: no history yet). */
export function factorValue(factor) {
  const value = factor.value;
  if (value === null || value === undefined) {
    // The share counts from the second stay on; before that it is left out, not zero.
    return t(factor.fact === "stays_completed_well_24m" ? "score.value.staysFew" : "score.value.none");
  }
  const count = (some, none) => (value === 0 ? t(none) : t(some, { count: value }));
  switch (factor.fact) {
    case "on_time_ratio_12m":
      return t("score.value.onTime", { percent: formatNumber(value / 100, { style: "percent" }) });
    case "late_payments_24m":
      return count("score.value.late", "score.value.lateNone");
    case "bookings_completed":
      return count("score.value.bookings", "score.value.bookingsNone");
    case "stays_completed_well_24m":
      return t("score.value.staysWell", { percent: formatNumber(value / 100, { style: "percent" }) });
    case "no_shows_12m":
      return count("score.value.noShows", "score.value.noShowsNone");
    case "unpaid_claims":
      return count("score.value.claims", "score.value.claimsNone");
    case "account_age_days":
      return t("score.value.age", { count: value });
    case "identity_level":
      return identityName(value);
    default:
      return formatNumber(value);
  }
}

export function factValue(score, fact, fallback) {
  const factor = score.factors.find((f) => f.fact === fact);
  return factor && factor.value !== null && factor.value !== undefined ? factor.value : fallback;
}
