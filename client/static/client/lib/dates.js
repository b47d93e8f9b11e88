// Calendar arithmetic the app needs, on the server's terms: "today", "past due" and
// "reported overdue" are what the server says (the profile's `time_zone`, a bill's
// `overdue_at` instant), not this phone's calendar. Pure: no DOM; importable by Node for its tests.

const DAY = 24 * 3600 * 1000;

/** Whole days from calendar date `from` to `to` ("YYYY-MM-DD" both): 1 for the next day. */
export function daysBetween(from, to) {
  const utc = (date) => {
    const [year, month, day] = date.split("-").map(Number);
    return Date.UTC(year, month - 1, day);
  };
  return Math.round((utc(to) - utc(from)) / DAY);
}

/** The calendar date ("YYYY-MM-DD") in IANA zone `timeZone` at instant `now` (ms). */
export function dateIn(timeZone, now = Date.now()) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(new Date(now));
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** This phone's calendar date ("YYYY-MM-DD") at instant `now` (ms). */
function phoneDate(now) {
  const local = new Date(now);
  return [local.getFullYear(), local.getMonth() + 1, local.getDate()]
    .map((n, i) => String(n).padStart(i ? 2 : 4, "0"))
    .join("-");
}

/**
 * How an open bill stands at `now` (ms): {pastDue, days, reported}. Past due once its due
 * date has ended on the server's calendar (its zone `timeZone`, the profile's); `days` is
 * how many days past due (at least 1), or how many are left before the due date ends (0:
 * due today). Without the server's zone, this phone's calendar, corrected by the server's
 * own `past_due` as loaded. `reported` once the server's `overdue_at` instant is reached
 * (30 days past due by default): from then on the bill is an "overdue" credit record.
 */
export function billDue(bill, now = Date.now(), timeZone = null) {
  let today = null;
  if (timeZone) {
    try {
      today = dateIn(timeZone, now);
    } catch {
      today = null;
    }
  }
  const days = daysBetween(today || phoneDate(now), bill.due_date);
  const reported = now >= Date.parse(bill.overdue_at);
  const pastDue = days < 0 || reported || (!today && bill.past_due === true);
  return pastDue ? { pastDue: true, days: Math.max(1, -days), reported } : { pastDue: false, days, reported };
}
