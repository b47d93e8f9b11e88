// Amounts typed on the wallet screen and the limits on moving money, said in the
// citizen's language (screens/wallet/limits.js).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { say } from "./support.mjs";
import {
  amountError,
  limitSentence,
  readAmount,
  refusalSentence,
} from "../../client/static/client/screens/wallet/limits.js";

describe("readAmount", () => {
  test("an amount in minor units, within the most allowed now", () => {
    assert.deepEqual(readAmount("25.50", "CNY"), { amount: 2550 });
    assert.deepEqual(readAmount("2000", "CNY", 200_000), { amount: 200_000 });
    assert.deepEqual(readAmount("2000.01", "CNY", 200_000), { problem: "over" });
    assert.deepEqual(readAmount("1", "CNY", 0), { problem: "over" });
  });

  test("no limit known: any amount", () => {
    assert.deepEqual(readAmount("999999", "CNY", null), { amount: 99_999_900 });
    assert.deepEqual(readAmount("999999", "CNY", undefined), { amount: 99_999_900 });
  });

  test("what is not an amount", () => {
    assert.deepEqual(readAmount("  ", "CNY"), { problem: "required" });
    assert.deepEqual(readAmount("0.00", "CNY"), { problem: "zero" });
    assert.deepEqual(readAmount("-5", "CNY"), { problem: "zero" });
    assert.deepEqual(readAmount("five", "CNY"), { problem: "unreadable" });
    assert.deepEqual(readAmount("1.234", "CNY"), { problem: "unreadable" });
  });

  test("the citizen's own separators", () => {
    assert.deepEqual(say("es", () => readAmount("1.234,50", "CNY")), { amount: 123_450 });
  });
});

describe("amountError", () => {
  test("over the limit, with the limit in the citizen's money", () => {
    assert.deepEqual(amountError("over", "CNY", { max: 50_000 }), {
      message: "You can add at most CN¥500.00 right now.",
    });
    assert.deepEqual(amountError("over", "CNY", { max: 50_000, over: "wallet.withdrawOver" }), {
      message: "You can withdraw at most CN¥500.00 right now.",
    });
    assert.equal(
      say("es", () => amountError("over", "CNY", { max: 50_000, over: "wallet.amountMax" }).message),
      "Una sola recarga puede ser como máximo de 500,00 CNY.",
    );
  });

  test("the other problems", () => {
    assert.deepEqual(amountError("required", "CNY"), { code: "required" });
    assert.equal(amountError("zero", "CNY").message, "Enter an amount above zero.");
    assert.equal(amountError("unreadable", "CNY").message, "Enter an amount as a number, for example 25.50.");
  });
});

describe("limitSentence", () => {
  test("each period, in English", () => {
    assert.equal(
      limitSentence("top_up_limit", 200_000, "day", "CNY"),
      "You can add at most CN¥2,000.00 a day at your verification level.",
    );
    assert.equal(
      limitSentence("top_up_limit", 1_000_000, "month", "CNY"),
      "You can add at most CN¥10,000.00 a month at your verification level.",
    );
    assert.equal(
      limitSentence("top_up_limit", 5_000_000, "balance", "CNY"),
      "Your wallet can hold at most CN¥50,000.00 at your verification level.",
    );
    assert.equal(
      limitSentence("withdrawal_limit", 200_000, "day", "CNY"),
      "You can withdraw at most CN¥2,000.00 a day at your verification level.",
    );
  });

  test("in Spanish and Chinese", () => {
    assert.equal(
      say("es", () => limitSentence("top_up_limit", 200_000, "day", "CNY")),
      "Puedes añadir como máximo 2000,00 CNY al día con tu nivel de verificación.",
    );
    assert.equal(
      say("zh-Hans", () => limitSentence("top_up_limit", 200_000, "month", "CNY")),
      "按您的验证等级，每月最多可充值 ¥2,000.00。",
    );
    assert.equal(
      say("zh-Hans", () => limitSentence("withdrawal_limit", 200_000, "day", "CNY")),
      "按您的验证等级，每天最多可提现 ¥2,000.00。",
    );
  });

  test("a period this app does not know yet: the limit still said", () => {
    assert.equal(limitSentence("top_up_limit", 10_000, "week", "CNY"), "That is over your top-up limit of CN¥100.00.");
    assert.equal(
      limitSentence("withdrawal_limit", 10_000, "month", "CNY"),
      "That is over your withdrawal limit of CN¥100.00.",
    );
  });

  test("no limit given, or another refusal: nothing", () => {
    assert.equal(limitSentence("top_up_limit", undefined, "day", "CNY"), null);
    assert.equal(limitSentence("top_up_limit", "2000", "day", "CNY"), null);
    assert.equal(limitSentence("bill_over_limit", 100, "day", "CNY"), null);
  });
});

describe("refusalSentence", () => {
  // The fields of an ApiError these read (api.js needs a page, so not imported here).
  const refusal = (code, problem = {}) => ({ status: 422, code, problem: { code, ...problem } });

  test("a limit, with what is left now", () => {
    const error = refusal("top_up_limit", { limit: 200_000, period: "day" });
    assert.equal(
      refusalSentence(error, "CNY", 50_000),
      "You can add at most CN¥2,000.00 a day at your verification level. You can add up to CN¥500.00 now.",
    );
    assert.equal(
      refusalSentence(error, "CNY", 0),
      "You can add at most CN¥2,000.00 a day at your verification level.",
    );
    assert.equal(
      refusalSentence(refusal("withdrawal_limit", { limit: 100_000, period: "day" }), "CNY", 2_500),
      "You can withdraw at most CN¥1,000.00 a day at your verification level. You can withdraw up to CN¥25.00 now.",
    );
  });

  test("in Chinese, the two sentences with no space between them", () => {
    const error = refusal("top_up_limit", { limit: 200_000, period: "day" });
    assert.equal(
      say("zh-Hans", () => refusalSentence(error, "CNY", 40_000)),
      "按您的验证等级，每天最多可充值 ¥2,000.00。目前最多可充值 ¥400.00。",
    );
  });

  test("a limit without its fields: the general sentence", () => {
    assert.equal(refusalSentence(refusal("withdrawal_limit"), "CNY"), "That is over your withdrawal limit.");
  });

  test("withdrawing more than there is, or with nowhere to send it", () => {
    assert.equal(refusalSentence(refusal("insufficient_funds"), "CNY"), "Your available balance is lower than that amount.");
    assert.match(refusalSentence(refusal("no_payout_destination"), "CNY"), /^Withdrawing needs a first top-up/);
    assert.equal(
      say("zh-Hans", () => refusalSentence(refusal("insufficient_funds"), "CNY")),
      "您的可用余额低于该金额。",
    );
  });

  test("anything else is left to the app's usual error message", () => {
    assert.equal(refusalSentence(refusal("payment_provider_unavailable"), "CNY"), null);
    assert.equal(refusalSentence(null, "CNY"), null);
  });
});
