// Top-ups and withdrawals as one history, their statuses, and what became of a top-up
// paid on the provider's page (screens/wallet/moves.js).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { setLanguageForTest } from "./support.mjs";
import { missingMessages } from "../../client/static/client/i18n.js";
import {
  checkoutTarget,
  mergeMoves,
  statusBadge,
  topUpOutcome,
} from "../../client/static/client/screens/wallet/moves.js";

const topUp = (id, created_at, extra = {}) => ({
  id,
  status: "succeeded",
  amount: 10_000,
  currency: "CNY",
  created_at,
  ...extra,
});
const withdrawal = (id, created_at, extra = {}) => ({
  id,
  status: "pending",
  amount: 2_500,
  currency: "CNY",
  destination: "Sandbox account ···4821",
  created_at,
  ...extra,
});

const page = (results, next = null) => ({ count: results.length, next, previous: null, results });
const MORE = "https://example.test/api/v1/me/top-ups?page=2";

describe("mergeMoves", () => {
  test("both lists as one, newest first, whatever the zone of their times", () => {
    const merged = mergeMoves(
      page([topUp("t2", "2026-12-05T10:00:00+00:00"), topUp("t1", "2026-12-01T10:00:00+00:00")]),
      page([withdrawal("w2", "2026-12-06T02:00:00+08:00"), withdrawal("w1", "2026-12-03T09:00:00Z")]),
    );
    assert.deepEqual(
      merged.map((row) => [row.type, row.id]),
      [
        ["withdrawal", "w2"],
        ["top_up", "t2"],
        ["withdrawal", "w1"],
        ["top_up", "t1"],
      ],
    );
  });

  test("a withdrawal is money out; a top-up money in", () => {
    const [out, into] = mergeMoves(
      page([topUp("t", "2026-12-01T00:00:00Z")]),
      page([withdrawal("w", "2026-12-02T00:00:00Z")]),
    );
    assert.equal(out.amount, -2_500);
    assert.equal(out.destination, "Sandbox account ···4821");
    assert.equal(into.amount, 10_000);
  });

  test("a list with more pages: nothing older than its oldest row, so no gap", () => {
    const topUps = page([topUp("t3", "2026-12-05T00:00:00Z"), topUp("t2", "2026-12-04T00:00:00Z")], MORE);
    const withdrawals = page([
      withdrawal("w2", "2026-12-04T12:00:00Z"),
      withdrawal("w1", "2026-12-04T00:00:00Z"),
      withdrawal("w0", "2026-12-01T00:00:00Z"), // (older top-ups may be on the next page)
    ]);
    assert.deepEqual(
      mergeMoves(topUps, withdrawals).map((row) => row.id),
      ["t3", "w2", "w1", "t2"],
    );
    // and with more pages of both, the later of their oldest rows is where it stops
    const more = { ...withdrawals, next: MORE };
    assert.deepEqual(mergeMoves(topUps, more).map((row) => row.id), ["t3", "w2", "w1", "t2"]);
  });

  test("the same instant keeps withdrawals first, then each list's own order", () => {
    const at = "2026-12-01T00:00:00Z";
    const merged = mergeMoves(page([topUp("t1", at), topUp("t2", at)]), page([withdrawal("w1", at)]));
    assert.deepEqual(merged.map((row) => row.id), ["w1", "t1", "t2"]);
  });

  test("nothing yet, or a list missing", () => {
    assert.deepEqual(mergeMoves(page([]), page([])), []);
    assert.deepEqual(mergeMoves(page([], MORE), page([])), []);
    assert.equal(mergeMoves(undefined, page([withdrawal("w", "2026-12-01T00:00:00Z")])).length, 1);
  });
});

describe("statusBadge", () => {
  test("each status its tone and word", () => {
    assert.deepEqual(statusBadge("pending"), { tone: "warning", label: "Pending" });
    assert.deepEqual(statusBadge("succeeded"), { tone: "ok", label: "Succeeded" });
    assert.deepEqual(statusBadge("paid"), { tone: "ok", label: "Paid" });
    assert.deepEqual(statusBadge("failed"), { tone: "danger", label: "Failed" });
    assert.deepEqual(statusBadge("expired"), { tone: "neutral", label: "Expired" });
  });

  test("in the citizen's language; a status this app does not know, as it came", () => {
    setLanguageForTest("zh-Hans");
    assert.deepEqual(statusBadge("pending"), { tone: "warning", label: "处理中" });
    setLanguageForTest("es");
    assert.deepEqual(statusBadge("expired"), { tone: "neutral", label: "Caducada" });
    assert.deepEqual(statusBadge("reversed"), { tone: "neutral", label: "reversed" });
    setLanguageForTest("en");
  });
});

describe("topUpOutcome", () => {
  test("the money arrived, with its amount", () => {
    assert.deepEqual(topUpOutcome(topUp("t", "2026-12-01T00:00:00Z")), {
      tone: "ok",
      text: "The money arrived: CN¥100.00 was added to your wallet.",
      settled: true,
    });
  });

  test("declined, expired, still pending", () => {
    const failed = topUpOutcome(topUp("t", "", { status: "failed" }));
    assert.equal(failed.tone, "error");
    assert.match(failed.text, /declined/);
    assert.equal(failed.settled, true);
    const expired = topUpOutcome(topUp("t", "", { status: "expired" }));
    assert.match(expired.text, /has expired/);
    assert.equal(expired.settled, true);
    const pending = topUpOutcome(topUp("t", "", { status: "pending" }));
    assert.equal(pending.text, "We are still waiting for the payment of CN¥100.00 to be confirmed. This usually takes a moment.");
    assert.equal(pending.settled, false);
  });

  test("a status this app does not know yet reads as not settled", () => {
    assert.equal(topUpOutcome(topUp("t", "", { status: "processing" })).settled, false);
  });

  test("in Spanish and Chinese", () => {
    setLanguageForTest("es");
    assert.equal(
      topUpOutcome(topUp("t", "")).text.replace(/\u00a0/g, " "),
      "El dinero ha llegado: se han añadido 100,00 CNY a tu monedero.",
    );
    setLanguageForTest("zh-Hans");
    assert.equal(topUpOutcome(topUp("t", "", { status: "failed" })).text, "¥100.00 的付款被拒绝或未能完成，没有资金存入您的钱包。");
    setLanguageForTest("en");
  });
});

describe("checkoutTarget", () => {
  test("a pending top-up's page: a path here, or a web address", () => {
    const pending = { status: "pending", checkout_url: "/sandbox/checkout/ref_123" };
    assert.equal(checkoutTarget(pending), "/sandbox/checkout/ref_123");
    assert.equal(
      checkoutTarget({ ...pending, checkout_url: "https://pay.example.com/c/1" }),
      "https://pay.example.com/c/1",
    );
  });

  test("nowhere to go: settled, no page, or not a web page", () => {
    assert.equal(checkoutTarget({ status: "succeeded", checkout_url: null }), null);
    assert.equal(checkoutTarget({ status: "succeeded", checkout_url: "/sandbox/checkout/x" }), null);
    assert.equal(checkoutTarget({ status: "pending", checkout_url: null }), null);
    assert.equal(checkoutTarget({ status: "pending", checkout_url: "javascript:alert(1)" }), null);
    assert.equal(checkoutTarget({ status: "pending", checkout_url: "//elsewhere.example/x" }), null);
    assert.equal(checkoutTarget(null), null);
  });
});

test("every wallet message exists in every language", () => {
  assert.deepEqual(missingMessages(), {});
});
