// A perk's requirements, tiers and reasons in the citizen's language, from their typed
// fields (fact, op, threshold, band, amount, code); null where this app cannot say one
// (the caller then shows the server's English). Pure (no DOM): the node tests import it.
import { formatMoney, formatNumber, has, t } from "../../i18n.js";
import { FACTS } from "../../strings.js";

import "./messages.js";

// Facts that count things (fewer is better for most): "== 0" reads as "none".
const COUNT_FACTS = new Set(["late_payments_24m", "bookings_completed", "no_shows_12m", "unpaid_claims", "open_disputes"]);
const OPS = new Set([">=", "<=", "==", ">", "<"]);

/** A message when this app has it, else null (the caller falls back to the server's words). */
export function known(key, vars) {
  return has(key) ? t(key, vars) : null;
}

export function factLabel(fact) {
  return known(`fact.${fact}`) || fact;
}

export function bandLabel(band) {
  return known(`band.${band}`) || band;
}

export function kindLabel(kind) {
  return known(`perks.kind.${kind}`) || kind;
}

export function categoryLabel(category) {
  return known(`category.${category}`) || category;
}

/** A threshold in the fact's own unit: a level's name, a percent, days, or a number. */
export function thresholdText(fact, value) {
  if (fact === "identity_level") {
    return known(`perks.identity.${value}`) || formatNumber(value);
  }
  if (fact === "on_time_ratio_12m") return formatNumber(value / 100, { style: "percent" });
  if (fact === "account_age_days") return t("perks.days", { count: value });
  return formatNumber(value);
}

/** One requirement in the citizen's language; null when this app cannot say it. */
export function requirementText(requirement, currency) {
  const { kind, fact, op, threshold, band, amount } = requirement;
  if (kind === "tier") {
    if (!band || amount === null || amount === undefined) return null;
    return amount > 0
      ? t("perks.req.tier", { band: bandLabel(band), amount: formatMoney(amount, currency) })
      : t("perks.req.tierNothing", { band: bandLabel(band) });
  }
  if (kind !== "condition" || !FACTS.includes(fact) || !OPS.has(op)) return null;
  if (fact === "band") {
    if (!band) return null;
    return t("perks.req.band", { fact: factLabel(fact), op: t(`perks.bandOp.${op}`), value: bandLabel(band) });
  }
  if (threshold === null || threshold === undefined) return null;
  if (COUNT_FACTS.has(fact) && ((op === "==" && threshold === 0) || (op === "<=" && threshold === 0) || (op === "<" && threshold === 1))) {
    return known(`perks.zero.${fact}`) || t("perks.req.none", { fact: factLabel(fact) });
  }
  // An identity level in words of what was verified ("a verified phone number"), not a number.
  const identity = fact === "identity_level" ? known(`perks.req.identity.${op}${threshold}`) : null;
  if (identity) return identity;
  return t("perks.req.condition", { fact: factLabel(fact), op: t(`perks.op.${op}`), value: thresholdText(fact, threshold) });
}

/** The fact a refusal's code is about: "<fact>_not_met" (the default) or the fact itself. */
export function factOfCode(code) {
  const fact = code.endsWith("_not_met") ? code.slice(0, -"_not_met".length) : code;
  return FACTS.includes(fact) ? fact : null;
}

/**
 * Whether each condition is met, as far as the answer tells: all of them when the citizen
 * qualifies or only the band refuses; the ones a refusal names are not; the others are
 * when every refusal names its condition. `null` where it cannot be told.
 */
export function conditionStates(perk, conditions) {
  const codes = perk.reasons.map((reason) => reason.code);
  if (perk.eligible_now || codes.every((code) => ["no_waiver_for_band", "deposit_waived", "partial_waiver"].includes(code))) {
    return conditions.map(() => "met");
  }
  const failed = new Set(codes.map(factOfCode).filter(Boolean));
  const allNamed = codes.every((code) => factOfCode(code));
  const perFact = {};
  for (const condition of conditions) perFact[condition.fact] = (perFact[condition.fact] || 0) + 1;
  return conditions.map((condition) => {
    if (failed.has(condition.fact)) return perFact[condition.fact] === 1 ? "unmet" : null;
    return allNamed ? "met" : null;
  });
}

export function reasonText(reason, perk, conditions) {
  const currency = perk.currency;
  switch (reason.code) {
    case "deposit_waived":
      return t("perks.reason.deposit_waived", { amount: formatMoney(perk.max_amount, currency) });
    case "partial_waiver":
      return t("perks.reason.partial_waiver", {
        waived: formatMoney(perk.waivable_amount, currency),
        amount: formatMoney(perk.max_amount, currency),
        held: formatMoney(perk.max_amount - perk.waivable_amount, currency),
      });
    case "no_waiver_for_band":
      return t("perks.reason.no_waiver_for_band");
    default: {
      const fact = factOfCode(reason.code);
      if (!fact) return null;
      const matching = conditions.filter((condition) => condition.fact === fact);
      const requirement = matching.length === 1 ? requirementText(matching[0], currency) : null;
      return requirement
        ? t("perks.reason.notMet", { requirement })
        : t("perks.reason.factNotMet", { fact: factLabel(fact) });
    }
  }
}
