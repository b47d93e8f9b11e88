// What My records says about claims, disputes, records and bookings, from the API's typed
// fields, in the citizen's language (screens/records/texts.js).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { say } from "./support.mjs";
import { missingMessages } from "../../client/static/client/i18n.js";
import {
  bookingProblem,
  canAnswer,
  canPay,
  claimSituation,
  countsSituation,
  depositText,
  disputeSituation,
  outcomeWord,
  timeLeft,
  unpaidOf,
} from "../../client/static/client/screens/records/texts.js";

const ZONE = process.env.TZ;
before(() => {
  process.env.TZ = "UTC";
});
after(() => {
  if (ZONE === undefined) delete process.env.TZ;
  else process.env.TZ = ZONE;
});

const NOW = Date.parse("2026-12-06T10:00:00Z");
const HOUR = 3600 * 1000;
const CLAIM = {
  id: "c1",
  amount: 30_000,
  paid_amount: 0,
  currency: "CNY",
  status: "awaiting_guest",
  respond_by: "2026-12-09T10:00:00Z",
  paid_at: null,
  lines: [
    { amount: 20_000, description: "Broken lamp" },
    { amount: 10_000, description: "Stained carpet" },
  ],
};

describe("timeLeft", () => {
  test("days and hours, hours, less than an hour; nothing once passed", () => {
    const at = (ms) => new Date(NOW + ms).toISOString();
    assert.equal(timeLeft(at(72 * HOUR), NOW), "3 days left");
    assert.equal(timeLeft(at(29 * HOUR + 1000), NOW), "1 day and 5 h left");
    assert.equal(timeLeft(at(5 * HOUR), NOW), "5 hours left");
    assert.equal(timeLeft(at(HOUR), NOW), "1 hour left");
    assert.equal(timeLeft(at(HOUR - 1), NOW), "less than an hour left");
    assert.equal(timeLeft(at(0), NOW), null);
    assert.equal(timeLeft(at(-HOUR), NOW), null);
  });

  test("in Spanish and Chinese", () => {
    const deadline = new Date(NOW + 50 * HOUR).toISOString();
    assert.equal(say("es", () => timeLeft(deadline, NOW)), "quedan 2 días y 2 h");
    assert.equal(say("zh-Hans", () => timeLeft(deadline, NOW)), "剩余 2 天 2 小时");
    assert.equal(say("es", () => timeLeft(new Date(NOW + HOUR).toISOString(), NOW)), "queda 1 hora");
  });
});

describe("a claim", () => {
  test("awaiting the guest: answer by the deadline, with the time left", () => {
    assert.equal(
      claimSituation(CLAIM, NOW),
      "Answer by Dec 9, 2026, 10:00 AM (3 days left). Without an answer it is charged as if you accepted it.",
    );
    assert.equal(canAnswer(CLAIM, NOW), true);
    assert.equal(canPay(CLAIM), false);
  });

  test("past its deadline it can no longer be answered", () => {
    const late = Date.parse(CLAIM.respond_by) + 1;
    assert.equal(claimSituation(CLAIM, late), "The time to answer has passed: it is charged as if you accepted it.");
    assert.equal(canAnswer(CLAIM, late), false);
  });

  test("disputed, upheld: nothing more taken, nothing owed", () => {
    const disputed = { ...CLAIM, status: "disputed" };
    assert.match(claimSituation(disputed, NOW), /Nothing beyond the deposit held is taken meanwhile\.$/);
    assert.equal(canAnswer(disputed, NOW), false);
    assert.equal(canPay(disputed), false);
    const upheld = { ...CLAIM, status: "upheld" };
    assert.equal(claimSituation(upheld, NOW), "Upheld: you owe nothing, and the deposit held was released.");
    assert.equal(canPay(upheld), false);
  });

  test("rejected or unpaid: what is left to pay, payable", () => {
    const rejected = { ...CLAIM, status: "rejected", paid_amount: 10_000 };
    assert.equal(unpaidOf(rejected), 20_000);
    assert.equal(
      claimSituation(rejected, NOW),
      "Rejected by our staff: the claim was charged as if you had accepted it. CN¥200.00 is still to pay.",
    );
    assert.equal(canPay(rejected), true);
    const settled = { ...rejected, paid_at: "2026-12-07T10:00:00Z", paid_amount: 30_000 };
    assert.equal(canPay(settled), false);
    assert.equal(
      claimSituation(settled, NOW),
      "Rejected by our staff: the claim was charged as if you had accepted it.",
    );
    const unpaid = { ...CLAIM, status: "unpaid", paid_amount: 5_000, unpaid_amount: 25_000 };
    assert.equal(canPay(unpaid), true);
    assert.equal(
      say("es", () => claimSituation(unpaid, NOW)),
      "No se pudieron cobrar 250,00 CNY; siguen pendientes de pago.",
    );
  });

  test("paid: charged unanswered is said; accepted needs no words", () => {
    const paid = { ...CLAIM, status: "paid", paid_amount: 30_000 };
    assert.equal(claimSituation({ ...paid, accepted_at: null, charged_at: "2026-12-09T10:05:00Z" }, NOW),
      "Charged because it was not answered in time.");
    assert.equal(claimSituation({ ...paid, accepted_at: "2026-12-07T10:00:00Z", charged_at: "2026-12-07T10:00:00Z" }, NOW), null);
    assert.equal(claimSituation(paid, NOW), null);
  });
});

describe("a dispute of a record", () => {
  const DISPUTE = { id: "d1", status: "open", respond_by: "2027-01-05T10:00:00Z", can_escalate: false };

  test("each status in words, open with the merchant's deadline", () => {
    assert.deepEqual(disputeSituation(DISPUTE), {
      tone: "warning",
      text: "Waiting for the merchant to answer, by January 5, 2027. If it does not answer by then, the record is removed.",
    });
    assert.match(disputeSituation({ ...DISPUTE, status: "verified", can_escalate: true }).text, /ask our staff to decide\.$/);
    assert.equal(
      disputeSituation({ ...DISPUTE, status: "verified", can_escalate: false }).text,
      "The merchant checked the record and says it is right, so it counts.",
    );
    assert.equal(disputeSituation({ ...DISPUTE, status: "removed_unanswered" }).text,
      "The merchant did not answer in time: the record was removed.");
    assert.deepEqual(disputeSituation({ ...DISPUTE, status: "rejected" }), {
      tone: "danger",
      text: "Rejected by our staff: the record stands.",
    });
    assert.equal(disputeSituation({ ...DISPUTE, status: "corrected" }).tone, "ok");
    assert.equal(disputeSituation({ ...DISPUTE, status: "escalated" }).text, "Our staff are deciding. The record counts meanwhile.");
  });

  test("in Chinese", () => {
    assert.equal(
      say("zh-Hans", () => disputeSituation(DISPUTE).text),
      "等待商户在 2027年1月5日 前答复。届时仍未答复的，该记录将被移除。",
    );
  });
});

describe("whether a record counts", () => {
  const EVENT = { status: "disputed", counts: true, counts_until: "2028-01-01T00:00:00Z", settled_at: null };

  test("a disputed record still counts until the merchant answers, or while staff decide", () => {
    assert.deepEqual(countsSituation(EVENT, { status: "open" }, NOW), {
      tone: "warning",
      text: "Disputed — still counts until the merchant answers",
    });
    assert.equal(countsSituation(EVENT, { status: "escalated" }, NOW).text, "Disputed — still counts while our staff decide");
    assert.equal(countsSituation(EVENT, null, NOW).text, "Disputed — still counts until the merchant answers");
  });

  test("removed, counting, settled", () => {
    assert.equal(countsSituation({ ...EVENT, status: "removed" }, null, NOW).text, "Removed after a dispute");
    assert.equal(countsSituation({ ...EVENT, status: "active" }, null, NOW).text, "Counts until January 1, 2028");
    assert.equal(
      countsSituation({ ...EVENT, status: "active", counts: false, settled_at: "2026-11-01T00:00:00Z" }, null, NOW).text,
      "Settled on November 1, 2026: no longer counts",
    );
  });
});

describe("a booking's deposit", () => {
  const BOOKING = {
    status: "confirmed",
    deposit_amount: 80_000,
    waived_amount: 30_000,
    hold_amount: 50_000,
    hold_placed: true,
    hold_due_at: null,
    cancel_reason: "",
    currency: "CNY",
  };

  test("held now, or from the day it will be", () => {
    assert.equal(depositText(BOOKING), "Deposit CN¥800.00: CN¥300.00 waived, CN¥500.00 held on your wallet");
    const later = { ...BOOKING, hold_placed: false, hold_due_at: "2027-02-08T16:00:00Z" };
    assert.equal(depositText(later), "Deposit CN¥800.00: CN¥300.00 waived, CN¥500.00 held from Feb 8, 2027");
    assert.equal(
      say("es", () => depositText(later)),
      "Depósito de 800,00 CNY: 300,00 CNY dispensados; 500,00 CNY retenidos a partir del 8 feb 2027",
    );
    assert.equal(bookingProblem(later), null);
  });

  test("cancelled when the consent was revoked; a hold that failed", () => {
    const cancelled = { ...BOOKING, status: "cancelled", cancel_reason: "consent_revoked", waived_amount: 0, deposit_amount: 50_000 };
    assert.equal(depositText(cancelled), "Deposit CN¥500.00: CN¥500.00 no longer held");
    assert.equal(
      bookingProblem(cancelled),
      "Cancelled: you revoked your consent before check-in. Nothing is held for it.",
    );
    const failed = { ...BOOKING, status: "hold_failed", hold_placed: false };
    assert.equal(depositText(failed), "Deposit CN¥800.00: CN¥300.00 waived, CN¥500.00 could not be held");
    assert.match(bookingProblem(failed), /^The deposit could not be held/);
    assert.equal(depositText({ ...BOOKING, deposit_amount: 0 }), "No deposit");
  });
});

test("every records message exists in every language", () => {
  assert.deepEqual(missingMessages(), {});
});

describe("outcomeWord", () => {
  test("a rental is returned, a stay goes well, in every language", () => {
    const rental = { outcome: "ok", merchant: { category: "rental" } };
    const hotel = { outcome: "ok", merchant: { category: "hotel" } };
    assert.equal(say("en", () => outcomeWord(rental)), "Returned in good order");
    assert.equal(say("en", () => outcomeWord(hotel)), "Stay went well");
    assert.equal(say("es", () => outcomeWord(rental)), "Devuelto en buen estado");
    assert.equal(say("zh-Hans", () => outcomeWord(rental)), "归还完好");
    // A kind of merchant without words of its own, and other outcomes: the general words.
    assert.equal(say("en", () => outcomeWord({ outcome: "ok", merchant: { category: "biller" } })), "Went well");
    assert.equal(say("en", () => outcomeWord({ outcome: "no_show", merchant: { category: "rental" } })), "No-show");
  });
});
