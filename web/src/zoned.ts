// Wall-clock times typed in a form (a datetime-local input's "YYYY-MM-DDTHH:MM") read in
// the installation's time zone, the one every time is shown in, not the browser's.

/** The fields of a moment's wall clock in a zone (undefined: the browser's). */
function wall(date: Date, timeZone: string | undefined): number {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).formatToParts(date);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
}

/** A moment as a datetime-local value, on the zone's clock. */
export function toLocalInput(date: Date, timeZone: string | undefined): string {
  return new Date(wall(date, timeZone)).toISOString().slice(0, 16);
}

/** A datetime-local value read on the zone's clock, as an ISO instant. In the hour a DST
 * change skips or repeats, the offset after the change is used. */
export function fromLocalInput(value: string, timeZone: string | undefined): string {
  const asUtc = Date.parse(`${value}:00Z`);
  // The zone's offset at that moment, twice: the first guess may sit across a DST change.
  let instant = asUtc - (wall(new Date(asUtc), timeZone) - asUtc);
  instant = asUtc - (wall(new Date(instant), timeZone) - instant);
  return new Date(instant).toISOString();
}
