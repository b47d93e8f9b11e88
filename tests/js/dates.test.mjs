// Dates as the app writes them: a calendar date from the API ("2026-12-01") is a day,
// the same day on a phone in any time zone; an instant is shown in the phone's zone.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

import { setLanguageForTest } from "./support.mjs";
import { formatDate, formatRelative } from "../../client/static/client/i18n.js";

const ZONE = process.env.TZ;
after(() => {
  if (ZONE === undefined) delete process.env.TZ;
  else process.env.TZ = ZONE;
});

describe("formatDate", () => {
  for (const zone of ["Pacific/Honolulu", "UTC", "Asia/Shanghai", "Pacific/Kiritimati"]) {
    test(`a calendar date is the same day in ${zone}`, () => {
      process.env.TZ = zone;
      setLanguageForTest("en");
      assert.equal(formatDate("2026-12-01"), "Dec 1, 2026");
      assert.equal(formatDate("2026-01-01", { dateStyle: "long" }), "January 1, 2026");
    });
  }

  test("in each language", () => {
    process.env.TZ = "UTC";
    setLanguageForTest("es");
    assert.equal(formatDate("2026-12-01", { dateStyle: "long" }), "1 de diciembre de 2026");
    setLanguageForTest("zh-Hans");
    assert.equal(formatDate("2026-12-01", { dateStyle: "long" }), "2026年12月1日");
  });

  test("nothing for no date", () => {
    assert.equal(formatDate(""), "");
    assert.equal(formatDate(null), "");
  });
});

describe("formatRelative", () => {
  const now = Date.parse("2026-12-06T12:00:00Z");
  test("past and future, in the largest whole unit", () => {
    setLanguageForTest("en");
    assert.equal(formatRelative("2026-12-06T09:00:00Z", now), "3 hours ago");
    assert.equal(formatRelative("2026-12-08T12:00:00Z", now), "in 2 days");
    assert.equal(formatRelative("2026-12-06T12:00:00Z", now), "now");
  });
});
