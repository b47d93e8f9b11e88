// Reading an amount a person types (it becomes money moved) and writing amounts in each
// language: i18n.js's parseMoney and formatMoney, run in Node (Intl with full ICU).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { setLanguageForTest } from "./support.mjs";
import { currencyDigits, formatMoney, parseMoney } from "../../client/static/client/i18n.js";

// [language, what the person types, currency, minor units or null when refused]
const TYPED = [
  ["en", "100", "CNY", 10000],
  ["en", " 50 ", "CNY", 5000],
  ["en", "1,234.50", "CNY", 123450],
  ["en", "1234.5", "CNY", 123450],
  ["en", "0.01", "CNY", 1],
  ["en", "1.234", "CNY", null], // three decimals in a two-decimal currency: ambiguous
  ["en", "50.001", "CNY", null],
  ["en", "0", "CNY", null],
  ["en", "-5", "CNY", null],
  ["en", "1e3", "CNY", null],
  ["en", "abc", "CNY", null],
  ["en", "", "CNY", null],
  ["es", "25,50", "CNY", 2550],
  ["es", "1.234", "CNY", 123400], // a thousands separator in Spanish
  ["es", "1.234,56", "CNY", 123456],
  ["es", "1 234,56", "CNY", 123456],
  ["zh-Hans", "1,234.56", "CNY", 123456],
  ["en", "500", "JPY", 500],
  ["en", "500.5", "JPY", null], // yen have no minor unit
  ["en", "1.234", "KWD", 1234], // three decimals: a dinar has 1000 fils
  ["en", "99999999999999999", "CNY", null], // beyond a safe integer of minor units
];

describe("parseMoney", () => {
  for (const [language, typed, currency, expected] of TYPED) {
    test(`${language}: ${JSON.stringify(typed)} ${currency} → ${expected}`, () => {
      setLanguageForTest(language);
      assert.equal(parseMoney(typed, currency), expected);
    });
  }
});

describe("formatMoney", () => {
  const money = (language, amount, currency = "CNY", signed = false) => {
    setLanguageForTest(language);
    return formatMoney(amount, currency, { signed }).replaceAll("\u00a0", " ");
  };

  test("English", () => {
    assert.equal(money("en", 123456), "CN¥1,234.56");
    assert.equal(money("en", 123456, "CNY", true), "+CN¥1,234.56");
    assert.equal(money("en", -500, "CNY", true), "-CN¥5.00");
    assert.equal(money("en", 0, "CNY", true), "CN¥0.00");
  });

  test("Spanish and Chinese", () => {
    assert.equal(money("es", 123456), "1234,56 CNY");
    assert.equal(money("zh-Hans", 123456), "¥1,234.56");
  });

  test("the currency's own decimals", () => {
    assert.equal(money("en", 500, "JPY"), "¥500");
    assert.equal(money("en", 1234, "KWD"), "KWD 1.234");
  });
});

describe("currencyDigits", () => {
  test("CLDR's minor units, as the server's currency_decimals", () => {
    assert.deepEqual(
      ["CNY", "EUR", "JPY", "KWD"].map((currency) => currencyDigits(currency)),
      [2, 2, 0, 3],
    );
  });
});
