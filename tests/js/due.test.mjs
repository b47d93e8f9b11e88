// A bill's due state on the server's terms (lib/dates.js): overdue once the server's
// `overdue_at` instant is reached, days counted on the server's calendar, whatever the
// zone this phone is in.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

import { billDue, dateIn, daysBetween } from "../../client/static/client/lib/dates.js";

const ZONE = process.env.TZ;
after(() => {
  if (ZONE === undefined) delete process.env.TZ;
  else process.env.TZ = ZONE;
});

const HOUR = 3600 * 1000;
// Due on 5 December on a server in UTC: overdue from the start of 6 December there.
const BILL = { due_date: "2026-12-05", overdue_at: "2026-12-06T00:00:00+00:00", is_overdue: false };
const END = Date.parse(BILL.overdue_at);

describe("billDue", () => {
  for (const zone of ["Asia/Shanghai", "UTC", "America/Los_Angeles"]) {
    test(`follows the server's instant on a phone in ${zone}`, () => {
      process.env.TZ = zone;
      assert.deepEqual(billDue(BILL, END - 2 * HOUR, "UTC"), { overdue: false, days: 0 });
      assert.deepEqual(billDue(BILL, END - 26 * HOUR, "UTC"), { overdue: false, days: 1 });
      assert.deepEqual(billDue(BILL, END + 60 * 1000, "UTC"), { overdue: true, days: 1 });
      assert.deepEqual(billDue(BILL, END + 25 * HOUR, "UTC"), { overdue: true, days: 2 });
    });
  }

  test("without the server's zone, days are counted from the overdue instant", () => {
    assert.deepEqual(billDue(BILL, END - 2 * HOUR), { overdue: false, days: 0 });
    assert.deepEqual(billDue(BILL, END - 50 * HOUR), { overdue: false, days: 2 });
    assert.deepEqual(billDue(BILL, END), { overdue: true, days: 1 });
  });

  test("the server's zone east of UTC", () => {
    const bill = { due_date: "2026-12-05", overdue_at: "2026-12-05T16:00:00+00:00" };
    const end = Date.parse(bill.overdue_at);
    assert.deepEqual(billDue(bill, end - HOUR, "Asia/Shanghai"), { overdue: false, days: 0 });
    assert.deepEqual(billDue(bill, end + HOUR, "Asia/Shanghai"), { overdue: true, days: 1 });
  });

  test("an older server without overdue_at: this phone's calendar", () => {
    process.env.TZ = "UTC";
    const old = { due_date: "2026-12-05", is_overdue: false };
    assert.deepEqual(billDue(old, Date.parse("2026-12-03T12:00:00Z")), { overdue: false, days: 2 });
    assert.deepEqual(billDue(old, Date.parse("2026-12-07T12:00:00Z")), { overdue: true, days: 2 });
  });
});

describe("calendar dates", () => {
  test("whole days between two dates", () => {
    assert.equal(daysBetween("2026-12-05", "2026-12-06"), 1);
    assert.equal(daysBetween("2026-12-31", "2027-01-01"), 1);
    assert.equal(daysBetween("2026-03-10", "2026-03-01"), -9);
    assert.equal(daysBetween("2026-03-07", "2026-03-09"), 2); // across a daylight-saving change
  });

  test("the date in a zone at an instant", () => {
    const instant = Date.parse("2026-12-05T20:00:00Z");
    assert.equal(dateIn("UTC", instant), "2026-12-05");
    assert.equal(dateIn("Asia/Shanghai", instant), "2026-12-06");
    assert.equal(dateIn("America/Los_Angeles", instant), "2026-12-05");
  });
});
