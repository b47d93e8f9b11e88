// Calendar arithmetic the app needs, on the server's terms: "today" and "overdue" are
// what the server says (a bill's `overdue_at` instant, the profile's `time_zone`), never
// this phone's calendar. Pure: no DOM; importable by Node for its tests.

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

/**
 * How an open bill stands at `now` (ms): {overdue, days}. Overdue once `now` reaches the
 * server's `overdue_at` (the end of the due date in the server's zone), the same rule the
 * server pays on time by; `days` is how many days it is overdue (at least 1), or how many
 * are left before its due date ends (0: due today). Days are counted on the server's
 * calendar when its `timeZone` is known, else in whole 24 hours from `overdue_at`.
 * A bill without `overdue_at` (an older server) falls back to this phone's calendar.
 */
export function billDue(bill, now = Date.now(), timeZone = null) {
  const end = bill.overdue_at ? Date.parse(bill.overdue_at) : Number.NaN;
  if (Number.isNaN(end)) {
    const local = new Date(now);
    const today = [local.getFullYear(), local.getMonth() + 1, local.getDate()]
      .map((n, i) => String(n).padStart(i ? 2 : 4, "0"))
      .join("-");
    const days = daysBetween(today, bill.due_date);
    return days < 0 || bill.is_overdue ? { overdue: true, days: Math.max(1, -days) } : { overdue: false, days };
  }
  const overdue = now >= end;
  let days;
  if (timeZone) {
    try {
      days = daysBetween(dateIn(timeZone, now), bill.due_date);
    } catch {
      days = null;
    }
  }
  if (days === undefined || days === null) {
    days = overdue ? -Math.ceil((now - end + 1) / DAY) : Math.ceil((end - now) / DAY) - 1;
  }
  return overdue ? { overdue: true, days: Math.max(1, -days) } : { overdue: false, days: Math.max(0, days) };
}
