// A bill's due state on the server's terms (lib/dates.js): past due once its due date has
// ended on the server's calendar, whatever the zone this phone is in; reported as overdue
// on the citizen's record only from the server's `overdue_at` instant (30 days later).
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

import { billDue, dateIn, daysBetween } from "../../client/static/client/lib/dates.js";

const ZONE = process.env.TZ;
after(() => {
  if (ZONE === undefined) delete process.env.TZ;
  else process.env.TZ = ZONE;
});

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
// Due on 5 December on a server in UTC: past due from the start of 6 December there, and
// reported as overdue 30 days later, from the start of 5 January.
const BILL = { due_date: "2026-12-05", overdue_at: "2027-01-05T00:00:00+00:00", past_due: false };
const END = Date.parse("2026-12-06T00:00:00Z");
const REPORTED = Date.parse(BILL.overdue_at);

describe("billDue", () => {
  for (const zone of ["Asia/Shanghai", "UTC", "America/Los_Angeles"]) {
    test(`follows the server's calendar on a phone in ${zone}`, () => {
      process.env.TZ = zone;
      const due = (now) => billDue(BILL, now, "UTC");
      assert.deepEqual(due(END - 2 * HOUR), { pastDue: false, days: 0, reported: false });
      assert.deepEqual(due(END - 26 * HOUR), { pastDue: false, days: 1, reported: false });
      assert.deepEqual(due(END + 60 * 1000), { pastDue: true, days: 1, reported: false });
      assert.deepEqual(due(END + 25 * HOUR), { pastDue: true, days: 2, reported: false });
    });
  }

  test("reported as overdue only from the server's overdue_at", () => {
    assert.deepEqual(billDue(BILL, REPORTED - 1, "UTC"), { pastDue: true, days: 30, reported: false });
    assert.deepEqual(billDue(BILL, REPORTED, "UTC"), { pastDue: true, days: 31, reported: true });
    assert.deepEqual(billDue(BILL, REPORTED + 3 * DAY, "UTC"), { pastDue: true, days: 34, reported: true });
  });

  test("the server's zone east of UTC", () => {
    const bill = { due_date: "2026-12-05", overdue_at: "2027-01-04T16:00:00+00:00" };
    const end = Date.parse("2026-12-05T16:00:00Z");
    assert.deepEqual(billDue(bill, end - HOUR, "Asia/Shanghai"), { pastDue: false, days: 0, reported: false });
    assert.deepEqual(billDue(bill, end + HOUR, "Asia/Shanghai"), { pastDue: true, days: 1, reported: false });
  });

  test("without the server's zone: this phone's calendar, and the server's past_due", () => {
    process.env.TZ = "UTC";
    const now = Date.parse("2026-12-03T12:00:00Z");
    assert.deepEqual(billDue(BILL, now), { pastDue: false, days: 2, reported: false });
    assert.deepEqual(billDue(BILL, Date.parse("2026-12-07T12:00:00Z")), { pastDue: true, days: 2, reported: false });
    // The server said it is past due (the phone's calendar is behind): past due, by a day.
    process.env.TZ = "Pacific/Honolulu";
    const late = Date.parse("2026-12-06T02:00:00Z"); // still 5 December in Honolulu
    assert.deepEqual(billDue({ ...BILL, past_due: true }, late), { pastDue: true, days: 1, reported: false });
    assert.deepEqual(billDue(BILL, late), { pastDue: false, days: 0, reported: false });
  });

  test("a zone the phone does not know: its own calendar", () => {
    process.env.TZ = "UTC";
    assert.deepEqual(billDue(BILL, END + HOUR, "Not/AZone"), { pastDue: true, days: 1, reported: false });
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
