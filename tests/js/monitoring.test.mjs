// Help us check the score is fair (screens/account/monitoring-texts.js): every choice the
// API takes has a name in every language, "Prefer not to say" travels as null, and the
// explanation says every promise in every language.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { has, missingMessages, t } from "../../client/static/client/i18n.js";
import {
  AGE_BANDS,
  formValues,
  PROMISES,
  requestBody,
  SEXES,
} from "../../client/static/client/screens/account/monitoring-texts.js";

import { say } from "./support.mjs";

const LANGUAGES = ["en", "es", "zh-Hans"];

describe("the monitoring screen's words", () => {
  test("every choice and promise has a name in every language", () => {
    const keys = [
      ...AGE_BANDS.map((band) => `monitoring.age.${band}`),
      ...SEXES.map((sex) => `monitoring.sex.${sex}`),
      ...PROMISES.map((promise) => `monitoring.promise.${promise}`),
      "monitoring.noAnswer",
      "monitoring.title",
    ];
    for (const key of keys) assert.ok(has(key), key);
    assert.deepEqual(missingMessages(), {});
    for (const language of LANGUAGES) {
      const names = keys.map((key) => say(language, () => t(key)));
      assert.equal(new Set(names).size, names.length, language);
    }
    assert.equal(say("es", () => t("monitoring.noAnswer")), "Prefiero no decirlo");
    assert.equal(say("zh-Hans", () => t("monitoring.sex.female")), "女");
  });

  test("the explanation says what the answers are for and not for", () => {
    const promises = PROMISES.map((promise) => t(`monitoring.promise.${promise}`)).join(" ");
    for (const words of ["optional", "never used to compute your score", "never shown to merchants", "withdraw", "data export"]) {
      assert.ok(promises.includes(words), words);
    }
  });
});

describe("the form's values", () => {
  test("no answer is null for the API and empty in the form", () => {
    assert.deepEqual(formValues({ age_band: null, sex: null }), { age_band: "", sex: "" });
    assert.deepEqual(formValues({ age_band: "65+", sex: null }), { age_band: "65+", sex: "" });
    assert.deepEqual(requestBody({ age_band: "", sex: "other" }), { age_band: null, sex: "other" });
    assert.deepEqual(requestBody(formValues({ age_band: "25-34", sex: "female" })), {
      age_band: "25-34",
      sex: "female",
    });
  });

  test("the choices are the API's", () => {
    assert.deepEqual(AGE_BANDS, ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]);
    assert.deepEqual(SEXES, ["female", "male", "other"]);
  });
});
