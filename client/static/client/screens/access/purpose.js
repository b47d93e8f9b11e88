// An access log entry in words: why the merchant looked (from its typed purpose) and
// what it read. Pure (no DOM): the node tests import it.
import { formatList, formatMoney, has, t } from "../../i18n.js";
import { FACTS } from "../../strings.js";

import "./messages.js";

/**
 * The purpose as a sentence with a `{who}` slot, in the current language, from the entry's
 * typed fields: `purpose_code`, and the `amount` (minor units) and `currency` it was about.
 * The server's English `purpose` is shown only for a purpose this app has no words for.
 */
export function purposeSentence(entry) {
  const code = entry.purpose_code;
  if (code === "deposit_waiver" && Number.isInteger(entry.amount) && entry.currency) {
    return t("access.purpose.deposit_waiver", { amount: formatMoney(entry.amount, entry.currency) });
  }
  if (code === "support_review") {
    // The staff member's own words for why, when they gave them.
    const note = (entry.purpose_note || "").trim();
    return note ? t("access.purpose.support_review_note", { note }) : t("access.purpose.support_review");
  }
  return t("access.purpose.other", { purpose: entry.purpose });
}

/**
 * A fact's name inside the sentence "Read: …" (lower case, worded for that list): these
 * are this screen's own, not the names "fact.<key>" that head a line elsewhere.
 */
export function factName(key) {
  return has(`access.fact.${key}`) ? t(`access.fact.${key}`) : key.replace(/_/g, " ");
}

export function factsRead(facts) {
  if (!facts?.length) return t("access.readNothing");
  // In the order the score explains them, whatever order they were read in.
  const ordered = [...facts].sort((a, b) => {
    const rank = (key) => (FACTS.includes(key) ? FACTS.indexOf(key) : FACTS.length);
    return rank(a) - rank(b);
  });
  const names = ordered.map(factName);
  const list = formatList(names);
  return t("access.read", { facts: list });
}

/**
 * What a look-up decided, in words, from the decision it made (`GET /me/decisions`): the
 * deposit waived in full, in part (and what is held), or not at all. Null without one.
 */
export function decisionSentence(decision) {
  if (!decision) return null;
  const money = (amount) => formatMoney(amount, decision.currency);
  if (decision.eligible && decision.held_amount === 0) {
    return t("access.decided.full", { amount: money(decision.waived_amount) });
  }
  if (decision.waived_amount > 0) {
    return t("access.decided.partial", { waived: money(decision.waived_amount), held: money(decision.held_amount) });
  }
  return t("access.decided.none", { amount: money(decision.amount) });
}
