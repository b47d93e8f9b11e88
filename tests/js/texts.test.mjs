// Texts the app says from the API's typed fields, never from its English prose: a perk's
// requirements and reasons (screens/perks/requirements.js) and why a merchant looked
// (screens/access/purpose.js), in each language.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { setLanguageForTest } from "./support.mjs";
import { missingMessages } from "../../client/static/client/i18n.js";
import { factsRead, purposeSentence } from "../../client/static/client/screens/access/purpose.js";
import {
  conditionStates,
  factOfCode,
  reasonText,
  requirementText,
} from "../../client/static/client/screens/perks/requirements.js";

const nbsp = (text) => text.replaceAll("\u00a0", " ").replaceAll("\u202f", " ");
const condition = (fact, op, threshold, band = null) => ({ kind: "condition", fact, op, threshold, band, amount: null });

describe("requirementText", () => {
  test("conditions in the fact's own unit", () => {
    setLanguageForTest("en");
    assert.equal(requirementText(condition("score", ">=", 600), "CNY"), "Score: at least 600");
    assert.equal(requirementText(condition("unpaid_claims", "==", 0), "CNY"), "No unpaid claims");
    assert.equal(nbsp(requirementText(condition("on_time_ratio_12m", ">=", 90), "CNY")), "Bills paid on time (12 months): at least 90%");
    assert.equal(requirementText(condition("band", ">=", null, "good"), "CNY"), "Band: at least Good");
  });

  test("tiers say how much each band waives", () => {
    setLanguageForTest("en");
    assert.equal(requirementText({ kind: "tier", band: "excellent", amount: 50000 }, "CNY"), "Band Excellent: up to CN¥500.00 waived");
    assert.match(requirementText({ kind: "tier", band: "poor", amount: 0 }, "CNY"), /nothing waived$/);
  });

  test("null for what the app cannot say (the server's words are shown instead)", () => {
    assert.equal(requirementText(condition("something_new", ">=", 1), "CNY"), null);
    assert.equal(requirementText(condition("score", "~", 1), "CNY"), null);
    assert.equal(requirementText({ kind: "tier", band: null, amount: 1 }, "CNY"), null);
  });

  test("in Spanish and Chinese too", () => {
    setLanguageForTest("es");
    assert.equal(requirementText(condition("score", ">=", 600), "CNY").includes("al menos"), true);
    setLanguageForTest("zh-Hans");
    const zh = requirementText(condition("score", ">=", 600), "CNY");
    assert.ok(zh && !zh.includes("at least"), zh);
  });
});

describe("reasons", () => {
  const conditions = [condition("score", ">=", 600), condition("unpaid_claims", "==", 0)];

  test("factOfCode reads '<fact>_not_met'", () => {
    assert.equal(factOfCode("score_not_met"), "score");
    assert.equal(factOfCode("unpaid_claims"), "unpaid_claims");
    assert.equal(factOfCode("something_else"), null);
  });

  test("a refusal names the condition it is about", () => {
    setLanguageForTest("en");
    const perk = { eligible_now: false, currency: "CNY", reasons: [{ code: "score_not_met" }] };
    assert.deepEqual(conditionStates(perk, conditions), ["unmet", "met"]);
    assert.equal(reasonText({ code: "score_not_met" }, perk, conditions), "Still needed — Score: at least 600");
  });

  test("a partial waiver says what is waived and what is held", () => {
    setLanguageForTest("en");
    const perk = { eligible_now: true, currency: "CNY", max_amount: 100000, waivable_amount: 60000, reasons: [{ code: "partial_waiver" }] };
    assert.deepEqual(conditionStates(perk, conditions), ["met", "met"]);
    const text = reasonText({ code: "partial_waiver" }, perk, conditions);
    assert.match(text, /600\.00/);
    assert.match(text, /1,000\.00/);
    assert.match(text, /400\.00/);
  });

  test("an unknown code has no words here", () => {
    const perk = { eligible_now: false, currency: "CNY", reasons: [{ code: "new_rule" }] };
    assert.equal(reasonText({ code: "new_rule" }, perk, conditions), null);
    assert.deepEqual(conditionStates(perk, conditions), [null, null]);
  });
});

describe("purposeSentence and factsRead", () => {
  test("from the purpose's code and amount, with a {who} slot", () => {
    setLanguageForTest("en");
    const waiver = purposeSentence({ purpose_code: "deposit_waiver", amount: 50000, currency: "CNY", purpose: "ignored" });
    assert.match(waiver, /^\{who\} looked to decide a deposit waiver of .*500\.00$/);
    assert.equal(purposeSentence({ purpose_code: "support_review", purpose: "ignored" }), "{who} looked during a support review");
  });

  test("only a purpose without a code shows the server's words", () => {
    setLanguageForTest("en");
    assert.equal(purposeSentence({ purpose_code: "other", purpose: "Audit" }), "{who} looked. Reason given: “Audit”");
  });

  test("in each language", () => {
    for (const language of ["es", "zh-Hans"]) {
      setLanguageForTest(language);
      const text = purposeSentence({ purpose_code: "support_review" });
      assert.ok(text.includes("{who}") && !text.includes("looked"), text);
    }
  });

  test("what was read, in the score's order", () => {
    setLanguageForTest("en");
    assert.equal(factsRead(["unpaid_claims", "score"]), "Read: score and unpaid claims");
    assert.notEqual(factsRead([]), factsRead(["score"]));
  });
});

test("every message these modules use exists in every language", () => {
  assert.deepEqual(missingMessages(), {});
});
