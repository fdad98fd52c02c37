const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const MIN_TIME = Date.parse('0000-01-01T00:00:00.000Z');
// Years past 9999 would print as +010000-..., breaking the string order of stored dates.
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * The time of a value a date field accepts (a `Date`, or an ISO 8601 string) within the years
 * 0000 to 9999; `undefined` for anything else. One rule for written values and for defaults.
 */
export function storableTimeOf(value: unknown): number | undefined {
  const time = value instanceof Date ? value.getTime() : typeof value === 'string' && ISO_DATE.test(value) ? Date.parse(value) : NaN;
  return Number.isFinite(time) && time >= MIN_TIME && time <= MAX_TIME ? time : undefined;
}
