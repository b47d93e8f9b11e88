// The currency's decimals come from the server (`currency_decimals` on the wallet), Intl's
// figure only until the server has said (lib/money.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  currencyDigits,
  formatMoney,
  parseMoney,
  rememberCurrencyDecimals,
} from "../../client/static/client/lib/money.js";

test("Intl's figure until the server says, then the server's", () => {
  assert.equal(currencyDigits("XTS"), 2); // the ISO test code: Intl knows no minor unit
  rememberCurrencyDecimals("XTS", 3);
  assert.equal(currencyDigits("XTS"), 3);
  assert.equal(parseMoney("1.234", "XTS"), 1234);
  assert.equal(parseMoney("1.2345", "XTS"), null);
  assert.match(formatMoney(1234, "XTS"), /1\.234/);
});

test("nonsense from a server is ignored", () => {
  rememberCurrencyDecimals("JPY", -1);
  rememberCurrencyDecimals("JPY", 2.5);
  rememberCurrencyDecimals("", 2);
  assert.equal(currencyDigits("JPY"), 0);
});

test("a language decides an ambiguous separator", () => {
  assert.equal(parseMoney("1.234", "CNY", { language: "es" }), 123400);
  assert.equal(parseMoney("1.234", "CNY", { language: "en" }), null);
  assert.equal(formatMoney(123456, "CNY", { language: "zh-Hans" }), "¥1,234.56");
});
