// Who looked and why, in the citizen's language (screens/access/purpose.js), from the
// access log's typed fields: the purpose's code, the amount it was about, the facts read.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { setLanguage } from "../../client/static/client/i18n.js";
import { factsRead, purposeSentence } from "../../client/static/client/screens/access/purpose.js";

const WAIVER = { purpose_code: "deposit_waiver", amount: 80000, currency: "CNY", purpose: "Deposit waiver" };

describe("purposeSentence", () => {
  test("a sentence with a slot for who looked, the amount in the language's own way", () => {
    setLanguage("en", { remember: false });
    assert.equal(purposeSentence(WAIVER), "{who} looked to decide a deposit waiver of CN¥800.00");
    assert.equal(purposeSentence({ purpose_code: "support_review" }), "{who} looked during a support review");
    setLanguage("es", { remember: false });
    assert.equal(
      purposeSentence(WAIVER).replace(/\u00a0/g, " "),
      "{who} consultó para decidir si te exime de un depósito de 800,00 CNY",
    );
    setLanguage("zh-Hans", { remember: false });
    assert.equal(purposeSentence(WAIVER), "{who} 为决定能否免除 ¥800.00 押金进行了查询");
  });

  test("a purpose the app has no words for: the server's, quoted", () => {
    setLanguage("en", { remember: false });
    assert.equal(
      purposeSentence({ purpose_code: "something_new", purpose: "A new reason" }),
      "{who} looked. Reason given: “A new reason”",
    );
    // A waiver without its amount is not said as one.
    assert.match(purposeSentence({ ...WAIVER, amount: null }), /Reason given/);
  });
});

describe("factsRead", () => {
  test("in the order the score explains them, as a list in the language", () => {
    setLanguage("en", { remember: false });
    assert.equal(factsRead(["late_payments_24m", "band", "score"]), "Read: score, score band, and late payments (24 months)");
    assert.equal(factsRead([]), "Read nothing but the fact that you have an account.");
    setLanguage("es", { remember: false });
    assert.equal(factsRead(["band", "score"]), "Leyó: puntuación y nivel de puntuación");
  });
});
