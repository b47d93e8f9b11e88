// A perk's requirements in the citizen's language (screens/perks/requirements.js), from
// their typed fields; null where the app cannot say one (the server's English is shown).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { setLanguage } from "../../client/static/client/i18n.js";
import {
  conditionStates,
  reasonText,
  requirementText,
} from "../../client/static/client/screens/perks/requirements.js";

const condition = (fact, op, threshold, extra = {}) => ({ kind: "condition", fact, op, threshold, ...extra });
const say = (language, requirement) => {
  setLanguage(language, { remember: false });
  return requirementText(requirement, "CNY");
};

describe("requirementText", () => {
  test("a threshold in the fact's own unit", () => {
    assert.equal(say("en", condition("score", ">=", 600)), "Score: at least 600");
    assert.equal(say("en", condition("on_time_ratio_12m", ">=", 90)), "Bills paid on time (12 months): at least 90%");
    assert.equal(say("en", condition("account_age_days", ">=", 90)), "Account age: at least 90 days");
  });

  test("an identity level says what was verified, never a level number", () => {
    assert.equal(say("en", condition("identity_level", ">=", 2)), "A verified identity document");
    assert.equal(say("en", condition("identity_level", ">=", 1)), "A verified phone number (or identity document)");
    assert.equal(say("es", condition("identity_level", ">=", 1)), "Un teléfono verificado (o un documento de identidad)");
    assert.equal(say("zh-Hans", condition("identity_level", ">=", 2)), "已验证的身份证件");
    // Other comparisons still name the level by what it means.
    assert.equal(say("en", condition("identity_level", "==", 1)), "Identity verification: exactly phone verified");
  });

  test("none of a counted fact reads as none", () => {
    const none = "No late payments in the last 24 months";
    assert.equal(say("en", condition("late_payments_24m", "==", 0)), none);
    assert.equal(say("en", condition("late_payments_24m", "<=", 0)), none);
    assert.equal(say("en", condition("late_payments_24m", "<", 1)), none);
  });

  test("bands by name, tiers with their amounts", () => {
    assert.equal(say("en", condition("band", ">=", null, { band: "good" })), "Band: at least Good");
    assert.equal(say("en", { kind: "tier", band: "excellent", amount: 80000 }), "Band Excellent: up to CN¥800.00 waived");
    assert.equal(say("en", { kind: "tier", band: "poor", amount: 0 }), "Band Poor: nothing waived");
  });

  test("in Spanish and in Chinese", () => {
    assert.equal(say("es", condition("score", ">=", 600)), "Puntuación: al menos 600");
    assert.equal(say("es", { kind: "tier", band: "excellent", amount: 80000 }).replace(/\u00a0/g, " "), "Nivel «Excelente»: se exime hasta 800,00 CNY");
    assert.equal(say("zh-Hans", condition("score", ">=", 600)), "评分：至少 600");
    assert.equal(say("zh-Hans", condition("late_payments_24m", "==", 0)), "最近 24 个月没有逾期付款");
  });

  test("what the app cannot say is null (the server's words are shown instead)", () => {
    assert.equal(say("en", condition("a_new_fact", ">=", 1)), null);
    assert.equal(say("en", condition("score", "~", 1)), null);
    assert.equal(say("en", condition("score", ">=", null)), null);
    assert.equal(say("en", { kind: "tier", band: "good", amount: null }), null);
  });
});

describe("reasons and which conditions are met", () => {
  const conditions = [condition("score", ">=", 600), condition("late_payments_24m", "==", 0)];

  test("a refusal names the condition not met, the others are met", () => {
    const perk = { eligible_now: false, reasons: [{ code: "score_not_met" }], currency: "CNY" };
    assert.deepEqual(conditionStates(perk, conditions), ["unmet", "met"]);
    setLanguage("en", { remember: false });
    assert.equal(reasonText(perk.reasons[0], perk, conditions), "Still needed — Score: at least 600");
  });

  test("all met when the citizen qualifies", () => {
    const perk = { eligible_now: true, reasons: [{ code: "deposit_waived" }], currency: "CNY", max_amount: 80000 };
    assert.deepEqual(conditionStates(perk, conditions), ["met", "met"]);
  });
});
