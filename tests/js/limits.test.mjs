// The limits a citizen sets on a biller when making a billing code, and how a consent says
// them (screens/limits.js): proposed defaults, what was typed, the sentence.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { say } from "./support.mjs";
import { missingMessages } from "../../client/static/client/i18n.js";
import {
  DEFAULT_LIMITS,
  limitsSentence,
  readLimits,
  textLanguage,
  typedLimit,
} from "../../client/static/client/screens/limits.js";

describe("the proposed limits", () => {
  test("500.00 a bill and 1,000.00 a month, typed as the citizen would", () => {
    assert.deepEqual(DEFAULT_LIMITS, { single: 50_000, monthly: 100_000 });
    assert.equal(typedLimit(DEFAULT_LIMITS.single, "CNY"), "500.00");
    assert.equal(typedLimit(DEFAULT_LIMITS.monthly, "CNY"), "1000.00");
    assert.equal(say("es", () => typedLimit(DEFAULT_LIMITS.monthly, "CNY")), "1000,00");
    assert.equal(typedLimit(50_000, "JPY"), "50000");
  });
});

describe("readLimits", () => {
  test("both amounts, in minor units, as the server names them", () => {
    assert.deepEqual(readLimits("500.00", "1000", "CNY"), {
      limits: { max_bill_amount: 50_000, max_monthly_amount: 100_000 },
    });
    assert.deepEqual(readLimits("250", "250", "CNY"), {
      limits: { max_bill_amount: 25_000, max_monthly_amount: 25_000 },
    });
    assert.deepEqual(say("es", () => readLimits("1.234,50", "2.000", "CNY")), {
      limits: { max_bill_amount: 123_450, max_monthly_amount: 200_000 },
    });
  });

  test("a single bill above the monthly total is refused here, by its field", () => {
    assert.deepEqual(readLimits("1500", "1000", "CNY"), {
      errors: { max_bill_amount: { message: "The largest bill cannot be more than the monthly total." } },
    });
  });

  test("missing, zero, negative or unreadable amounts, each by its field", () => {
    assert.deepEqual(readLimits("", " ", "CNY"), {
      errors: { max_bill_amount: { code: "required" }, max_monthly_amount: { code: "required" } },
    });
    assert.deepEqual(readLimits("0.00", "-5", "CNY"), {
      errors: {
        max_bill_amount: { message: "Enter an amount above zero." },
        max_monthly_amount: { message: "Enter an amount above zero." },
      },
    });
    assert.deepEqual(readLimits("five", "1000", "CNY"), {
      errors: { max_bill_amount: { message: "Enter an amount as a number, for example 500.00." } },
    });
  });
});

describe("limitsSentence", () => {
  const CONSENT = { max_bill_amount: 50_000, max_monthly_amount: 100_000, currency: "CNY" };

  test("in each language", () => {
    assert.equal(
      limitsSentence(CONSENT),
      "Bills of at most CN¥500.00 each, and at most CN¥1,000.00 in a calendar month.",
    );
    assert.equal(
      say("es", () => limitsSentence(CONSENT)),
      "Facturas de 500,00 CNY como máximo cada una, y 1000,00 CNY como máximo en un mes natural.",
    );
    assert.equal(say("zh-Hans", () => limitsSentence(CONSENT)), "每张账单不超过 ¥500.00，每个自然月合计不超过 ¥1,000.00。");
  });

  test("a consent without limits says none", () => {
    assert.equal(limitsSentence({ max_bill_amount: null, max_monthly_amount: null, currency: "CNY" }), null);
    assert.equal(limitsSentence(null), null);
  });
});

test("the consent text's language as the server names it", () => {
  assert.equal(textLanguage("zh-Hans"), "zh");
  assert.equal(textLanguage("es"), "es");
  assert.equal(textLanguage("en"), "en");
});

test("every limits message exists in every language", () => {
  assert.deepEqual(missingMessages(), {});
});
