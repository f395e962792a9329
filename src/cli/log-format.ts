import type { Writable } from 'node:stream';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every record has; the readable line shows them in its own layout. */
const FIXED = new Set(['level', 'time', 'msg', 'pid', 'version', 'hostname']);

/**
 * A pino destination writing `HH:MM:SS.mmm LEVEL message key=value …` per record
 * (RADSCREEN_LOG_FORMAT=pretty), for a person at a terminal. Values are JSON, so a hex dump or
 * an error text stays on one line; the time is local, with the date at the start of each day.
 */
export function prettyDestination(out: Writable): { write(line: string): void } {
  let lastDay = '';
  return {
    write(line: string) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const t = new Date(typeof rec.time === 'number' ? rec.time : Date.now());
      const day = `${t.getFullYear()}-${String(t.getMonth() + 1).padStart(2, '0')}-${String(t.getDate()).padStart(2, '0')}`;
      const clock = `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}:${String(t.getSeconds()).padStart(2, '0')}.${String(t.getMilliseconds()).padStart(3, '0')}`;
      const stamp = day === lastDay ? clock : `${day} ${clock}`;
      lastDay = day;
      const level = (LEVEL_NAMES[rec.level as number] ?? String(rec.level)).padEnd(5);
      const extra = Object.entries(rec)
        .filter(([k]) => !FIXED.has(k))
        .map(([k, v]) => `${k}=${typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)}`)
        .join(' ');
      out.write(`${stamp} ${level} ${String(rec.msg ?? '')}${extra ? ` ${extra}` : ''}\n`);
    },
  };
}
