// A bill's badge on the server's terms (lib/dates.js): overdue from the server's
// `overdue_at` instant, days counted on the server's calendar, whatever this phone's zone.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

import { billDue, dateIn, daysBetween } from "../../client/static/client/lib/dates.js";

const ZONE = process.env.TZ;
after(() => {
  if (ZONE === undefined) delete process.env.TZ;
  else process.env.TZ = ZONE;
});

const HOUR = 3600 * 1000;
// Due on 3 December 2026 on a server in UTC: overdue from the first moment of the 4th there.
const BILL = { due_date: "2026-12-03", overdue_at: "2026-12-04T00:00:00+00:00", is_overdue: false };
const END = Date.parse(BILL.overdue_at);

describe("daysBetween and dateIn", () => {
  test("whole calendar days, across a daylight-saving change", () => {
    assert.equal(daysBetween("2026-12-03", "2026-12-04"), 1);
    assert.equal(daysBetween("2026-12-04", "2026-12-03"), -1);
    assert.equal(daysBetween("2026-03-07", "2026-03-09"), 2);
    assert.equal(daysBetween("2026-12-31", "2027-01-01"), 1);
  });

  test("the date in a zone at an instant", () => {
    const instant = Date.parse("2026-12-03T16:30:00Z");
    assert.equal(dateIn("UTC", instant), "2026-12-03");
    assert.equal(dateIn("Asia/Shanghai", instant), "2026-12-04");
    assert.equal(dateIn("America/Los_Angeles", instant), "2026-12-03");
  });
});

describe("billDue", () => {
  for (const phone of ["Asia/Shanghai", "Pacific/Kiritimati", "UTC", "Pacific/Honolulu"]) {
    test(`a phone in ${phone} agrees with the server in UTC`, () => {
      process.env.TZ = phone;
      // An hour before the end of the due date on the server (already the 4th in Shanghai)
      assert.deepEqual(billDue(BILL, END - HOUR, "UTC"), { overdue: false, days: 0 });
      assert.deepEqual(billDue(BILL, END - HOUR), { overdue: false, days: 0 });
      // Two days before: two days left
      assert.deepEqual(billDue(BILL, END - 49 * HOUR, "UTC"), { overdue: false, days: 2 });
      // At the overdue instant: overdue by one day; thirty hours on: by two
      assert.deepEqual(billDue(BILL, END, "UTC"), { overdue: true, days: 1 });
      assert.deepEqual(billDue(BILL, END + 30 * HOUR, "UTC"), { overdue: true, days: 2 });
      assert.deepEqual(billDue(BILL, END + 30 * HOUR), { overdue: true, days: 2 });
    });
  }

  test("a server in Shanghai: overdue at 16:00 UTC on the due date", () => {
    const bill = { due_date: "2026-12-03", overdue_at: "2026-12-04T00:00:00+08:00" };
    const end = Date.parse("2026-12-03T16:00:00Z");
    assert.deepEqual(billDue(bill, end - 1, "Asia/Shanghai"), { overdue: false, days: 0 });
    assert.deepEqual(billDue(bill, end, "Asia/Shanghai"), { overdue: true, days: 1 });
  });

  test("an unknown zone falls back to whole days from the overdue instant", () => {
    assert.deepEqual(billDue(BILL, END - HOUR, "Not/AZone"), { overdue: false, days: 0 });
    assert.deepEqual(billDue(BILL, END + HOUR, "Not/AZone"), { overdue: true, days: 1 });
  });

  test("without overdue_at (an older server), the phone's calendar", () => {
    process.env.TZ = "UTC";
    const old = { due_date: "2026-12-03", is_overdue: false };
    assert.deepEqual(billDue(old, Date.parse("2026-12-01T12:00:00Z")), { overdue: false, days: 2 });
    assert.deepEqual(billDue(old, Date.parse("2026-12-05T12:00:00Z")), { overdue: true, days: 2 });
  });
});
