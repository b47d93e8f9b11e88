// A decision's reasons as the app says them from their codes, never from the API's English
// prose (screens/perks/requirements.js; its requirement texts are requirements.test.mjs,
// why a merchant looked purpose.test.mjs), and every message those modules use, in each
// language.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { setLanguageForTest } from "./support.mjs";
import { missingMessages } from "../../client/static/client/i18n.js";
import {
  conditionStates,
  factOfCode,
  reasonText,
} from "../../client/static/client/screens/perks/requirements.js";

const condition = (fact, op, threshold, band = null) => ({ kind: "condition", fact, op, threshold, band, amount: null });

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

test("every message these modules use exists in every language", () => {
  assert.deepEqual(missingMessages(), {});
});
