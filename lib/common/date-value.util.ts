// RFC 3339 (what OpenAPI's date-time names) also allows a lower-case `t` and `z` and any number of fraction digits.
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:[Zz]|([+-])(\d{2}):?(\d{2}))?)?$/;
const MIN_TIME = Date.parse('0000-01-01T00:00:00.000Z');
// Years past 9999 would print as +010000-..., breaking the string order of stored dates.
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * The time of a value a date field accepts, within the years 0000 to 9999; `undefined` for
 * anything else. The one date rule: for written values, defaults, restored records, filters of
 * `find` and of `GET /P`, and audit queries, so no path stores or compares a value another refuses.
 *
 * A value is a valid `Date`, or an ISO 8601 string: `YYYY-MM-DD`, optionally `Thh:mm`, `:ss`,
 * `.fraction` (cut to milliseconds) and an offset (`Z`, `+hh:mm`, `+hhmm`); `t` and `z` in either case.
 * A date-time without an offset is UTC, as a date alone already is in JavaScript: read as local
 * time (what `Date.parse` does), the stored instant would depend on the TZ of the server.
 */
export function storableTimeOf(value: unknown): number | undefined {
  const time = value instanceof Date ? value.getTime() : typeof value === 'string' ? isoTimeOf(value) : NaN;
  return Number.isFinite(time) && time >= MIN_TIME && time <= MAX_TIME ? time : undefined;
}

/** A date value in stored form (`2024-01-01T10:00:00.000Z`); `undefined` for what `storableTimeOf` refuses. */
export function isoDateOf(value: unknown): string | undefined {
  const time = storableTimeOf(value);
  return time === undefined ? undefined : new Date(time).toISOString();
}

function isoTimeOf(text: string): number {
  const match = ISO_DATE.exec(text);
  if (!match) return NaN;
  const [year, month, day, hours, minutes, seconds, offsetHours, offsetMinutes] = [1, 2, 3, 4, 5, 6, 9, 10].map((group) => Number(match[group] ?? 0));
  const date = new Date(0);
  // Not Date.UTC, which reads the years 0 to 99 as 1900 to 1999.
  date.setUTCFullYear(year!, month! - 1, day);
  date.setUTCHours(hours!, minutes, seconds, Number((match[7] ?? '').slice(0, 3).padEnd(3, '0')));
  // Date carries 02-30 into March and T24:00 into the next day; such a text names no instant.
  const carried =
    date.getUTCMonth() !== month! - 1 ||
    date.getUTCDate() !== day ||
    date.getUTCHours() !== hours ||
    date.getUTCMinutes() !== minutes ||
    date.getUTCSeconds() !== seconds;
  if (carried || offsetHours! > 23 || offsetMinutes! > 59) return NaN;
  return date.getTime() - (match[8] === '-' ? -1 : 1) * (offsetHours! * 60 + offsetMinutes!) * 60_000;
}
