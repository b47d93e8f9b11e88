// The share of stays completed well (scorecard v2's factor) in words, in every language:
// a percent, and "fewer than two stays" (not "no history") while the share is left out.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { setLanguageForTest } from "./support.mjs";
import { factorLabel, factorValue, reasonTexts } from "../../client/static/client/screens/score/texts.js";

const factor = (value) => ({
  key: "stays_completed_well",
  fact: "stays_completed_well_24m",
  label: "server words",
  value,
});

describe("the share of stays completed well", () => {
  test("said as a percent, and as too few stays when left out", () => {
    setLanguageForTest("en");
    assert.equal(factorValue(factor(75)), "75% of stays completed well");
    assert.equal(factorValue(factor(null)), "Fewer than two stays so far");
    assert.equal(factorLabel(factor(75)), "Stays completed well (24 months)");
  });

  for (const language of ["es", "zh-Hans"]) {
    test(`has its own words in ${language}`, () => {
      setLanguageForTest(language);
      assert.notEqual(factorLabel(factor(75)), "server words");
      assert.doesNotMatch(factorValue(factor(null)), /Fewer/);
      const reason = reasonTexts({ code: "stays_completed_well", label: "x", tip: "y" });
      assert.notEqual(reason.label, "x");
      assert.notEqual(reason.tip, "y");
    });
  }
});
