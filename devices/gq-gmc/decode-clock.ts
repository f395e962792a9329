/**
 * GQ clocks hold device-local wall time with no zone (docs/protocols.md §1.3 GETDATETIME, §1.7 tags).
 * These turn such a wall time into UTC ms for a configured IANA zone, with Intl only: no tz
 * database dependency, and DST gaps and overlaps resolved the way Temporal's "compatible" does.
 */

/** A wall-clock time as the device stores it; month 1–12. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Six bytes YY MM DD hh mm ss as a wall time (year 2000 + YY); GETDATETIME and history tags. */
export function readLocalTime(bytes: Buffer, at = 0): LocalDateTime {
  const b = (i: number) => bytes[at + i] ?? 0;
  return { year: 2000 + b(0), month: b(1), day: b(2), hour: b(3), minute: b(4), second: b(5) };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `name` is a time zone this Node's Intl knows (IANA names such as `Europe/Berlin`, or `UTC`). */
export function isTimeZone(name: string): boolean {
  try {
    formatterFor(name);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at instant `ts` (ms since the epoch), in ms. */
function offsetAt(ts: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(ts))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year ?? 0, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return wall - (ts - (((ts % 1000) + 1000) % 1000));
}

/** True when the fields name a real calendar date and time of day. */
export function isValidLocal(t: LocalDateTime): boolean {
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.hour > 23 || t.minute > 59 || t.second > 59) return false;
  const d = new Date(Date.UTC(t.year, t.month - 1, t.day));
  return d.getUTCDate() === t.day;
}

/**
 * UTC ms since the epoch for a wall time in `timeZone`. In a DST gap the earlier offset is used
 * (the time moves forward); in an overlap the first occurrence wins.
 */
export function localToUtc(t: LocalDateTime, timeZone: string): number {
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  const before = offsetAt(asUtc - 86_400_000, timeZone);
  const after = offsetAt(asUtc + 86_400_000, timeZone);
  // Try the offset in force a day earlier first, so overlaps resolve to the first occurrence.
  for (const offset of [before, after]) {
    const ts = asUtc - offset;
    if (offsetAt(ts, timeZone) === offset) return ts;
  }
  return asUtc - before;
}

/** `YYYY-MM-DD hh:mm:ss`, the way GeigerLog prints device times; for logs and golden files. */
export function formatLocal(t: LocalDateTime): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(t.year, 4)}-${p(t.month)}-${p(t.day)} ${p(t.hour)}:${p(t.minute)}:${p(t.second)}`;
}
