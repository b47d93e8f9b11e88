// Account and security in words (screens/account/texts.js): devices named from their
// User-Agent, what keeps an account from closing, identity levels; and the rough edges
// fixed elsewhere: the account-age reason at the citizen's own age, a staff member's
// stated purpose and a look-up's decision in "Who looked".
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { missingMessages } from "../../client/static/client/i18n.js";
import { decisionSentence, purposeSentence } from "../../client/static/client/screens/access/purpose.js";
import { deviceName, levelName, obligationLines } from "../../client/static/client/screens/account/texts.js";
import { reasonTexts } from "../../client/static/client/screens/score/texts.js";

import { say } from "./support.mjs";

const FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0";
const CHROME_MAC =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const EDGE_WINDOWS =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
const SAFARI_IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

describe("deviceName", () => {
  test("a browser on a system, as a person names it", () => {
    assert.equal(say("en", () => deviceName({ kind: "session", client: FIREFOX_ANDROID })), "Firefox on Android");
    assert.equal(say("en", () => deviceName({ kind: "session", client: CHROME_MAC })), "Chrome on macOS");
    assert.equal(say("en", () => deviceName({ kind: "session", client: EDGE_WINDOWS })), "Edge on Windows");
    assert.equal(say("en", () => deviceName({ kind: "session", client: SAFARI_IPHONE })), "Safari on iOS");
    assert.equal(say("es", () => deviceName({ kind: "session", client: CHROME_MAC })), "Chrome en macOS");
    assert.equal(say("zh-Hans", () => deviceName({ kind: "session", client: CHROME_MAC })), "macOS 上的 Chrome");
  });

  test("nothing recognisable: the kind of sign-in, else unknown", () => {
    assert.equal(say("en", () => deviceName({ kind: "token", client: "" })), "App");
    assert.equal(say("es", () => deviceName({ kind: "session", client: "x" })), "Navegador");
    assert.equal(say("en", () => deviceName({ kind: "other", client: "" })), "Unknown device");
    assert.equal(say("en", () => deviceName({ kind: "token", client: "python-requests/2.32" })), "Python");
  });
});

describe("obligationLines", () => {
  test("each obligation in words, once, with where to settle it", () => {
    const lines = say("en", () =>
      obligationLines([
        { code: "balance", message: "Money is left in the wallet." },
        { code: "claim", message: "A claim." },
        { code: "claim", message: "Another claim." },
        { code: "something_new", message: "A new kind of obligation." },
      ]),
    );
    assert.deepEqual(lines, [
      { code: "balance", text: "There is money in your wallet. Withdraw it first.", href: "#/wallet", fix: "Open the wallet" },
      { code: "claim", text: "A damage claim is waiting for your answer, disputed or unpaid.", href: "#/records?tab=claims", fix: "See your claims" },
      { code: "something_new", text: "A new kind of obligation.", href: null, fix: null },
    ]);
  });

  test("in every language, never the code", () => {
    const [line] = say("zh-Hans", () => obligationLines([{ code: "bill", message: "An open bill." }]));
    assert.deepEqual(line, { code: "bill", text: "还有未付的账单。", href: "#/bills", fix: "查看账单" });
    const [spanish] = say("es", () => obligationLines([{ code: "top_up", message: "x" }]));
    assert.equal(spanish.text, "Hay una recarga en curso.");
    assert.deepEqual(obligationLines(undefined), []);
  });
});

test("an identity level is what was verified, never a number", () => {
  assert.equal(say("en", () => levelName(1)), "Phone verified");
  assert.equal(say("es", () => levelName(2)), "Documento de identidad verificado");
  assert.equal(say("zh-Hans", () => levelName(0)), "未验证");
});

describe("the account-age reason", () => {
  const score = (days) => ({ factors: [{ key: "account_age", fact: "account_age_days", value: days }] });
  const reason = { code: "account_age", label: "Your account is new", points_lost: 20, tip: "" };

  test("says how long the account has been open", () => {
    assert.equal(
      say("en", () => reasonTexts(reason, score(800)).label),
      "Your account has been open for 2 years: accounts gain points as they age",
    );
    assert.equal(
      say("en", () => reasonTexts(reason, score(45)).label),
      "Your account has been open for 1 month: accounts gain points as they age",
    );
    assert.equal(
      say("es", () => reasonTexts(reason, score(1)).label),
      "Tu cuenta lleva abierta 1 día: las cuentas suman puntos con la antigüedad",
    );
    assert.equal(say("zh-Hans", () => reasonTexts(reason, score(400)).label), "您的账户已开立 1 年：账户开立越久，得分越高");
  });

  test("without the age, never that the account is new", () => {
    assert.equal(say("en", () => reasonTexts(reason).label), "Accounts gain points as they age");
  });
});

describe("who looked", () => {
  test("a staff member's stated purpose, in their words", () => {
    const entry = { purpose_code: "support_review", purpose: "support_review", purpose_note: "Customer asked about a bill" };
    assert.equal(
      say("en", () => purposeSentence(entry)),
      "{who} looked during a support review. Reason given: “Customer asked about a bill”",
    );
    assert.equal(say("en", () => purposeSentence({ ...entry, purpose_note: "" })), "{who} looked during a support review");
  });

  test("what a look-up decided, in words", () => {
    const decision = { eligible: true, amount: 80000, waived_amount: 80000, held_amount: 0, currency: "CNY" };
    assert.equal(say("en", () => decisionSentence(decision)), "Decided: the whole deposit of CN¥800.00 waived.");
    assert.equal(
      say("en", () => decisionSentence({ ...decision, waived_amount: 50000, held_amount: 30000 })),
      "Decided: CN¥500.00 of the deposit waived, CN¥300.00 held on your wallet.",
    );
    assert.equal(
      say("es", () => decisionSentence({ ...decision, eligible: false, waived_amount: 0, held_amount: 80000 })),
      "Decidió: no te exime de ninguna parte del depósito de 800,00 CNY.",
    );
    assert.equal(decisionSentence(null), null);
  });
});

test("every account message exists in every language", () => {
  assert.deepEqual(missingMessages(), {});
});
