/**
 * Times as joold writes them (log lines, the status file, the JSON stats):
 * UTC, ISO 8601 with milliseconds, what `Date.prototype.toISOString`
 * returns. Computed here from the milliseconds: the first toISOString of a
 * process pages about 2 MiB of the runtime's date code into its resident
 * memory (measured with Deno 2.9.6), for a string this arithmetic makes.
 *
 * @module
 */

const MS_PER_DAY = 86_400_000;

/** Days from 0000-03-01 to 1970-01-01: the civil calendar's years start in March here. */
const EPOCH_SHIFT_DAYS = 719_468;
const DAYS_PER_ERA = 146_097;

/**
 * `ms` (milliseconds since the Unix epoch, years 1970 to 9999) as
 * `YYYY-MM-DDTHH:MM:SS.mmmZ`, as `new Date(ms).toISOString()` writes it.
 */
export function isoTime(ms: number): string {
  const days = Math.floor(ms / MS_PER_DAY);
  const dayMs = ms - days * MS_PER_DAY;
  // Howard Hinnant's civil_from_days (http://howardhinnant.github.io/date_algorithms.html).
  const shifted = days + EPOCH_SHIFT_DAYS;
  const era = Math.floor(shifted / DAYS_PER_ERA);
  const dayOfEra = shifted - era * DAYS_PER_ERA;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) -
      Math.floor(dayOfEra / 146096)) / 365,
  );
  const dayOfYear = dayOfEra -
    (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const marchMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * marchMonth + 2) / 5) + 1;
  const month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(dayMs / 3_600_000);
  const minutes = Math.floor(dayMs / 60_000) % 60;
  const seconds = Math.floor(dayMs / 1000) % 60;
  return `${digits(year, 4)}-${digits(month, 2)}-${digits(day, 2)}T${digits(hours, 2)}:` +
    `${digits(minutes, 2)}:${digits(seconds, 2)}.${digits(dayMs % 1000, 3)}Z`;
}

function digits(value: number, width: number): string {
  return String(value).padStart(width, "0");
}
