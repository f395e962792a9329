import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDurableQueue } from '../../src/queue/durable-queue.ts';

/**
 * After a failed delivery the spool rewinds its queue and retries after a backoff (spool.ts).
 * Rows appended during that backoff are fresh readings: they stay live, so they are written
 * first when InfluxDB is back, not behind an hour of backlog. Everything else is backlog.
 */
const dir = mkdtempSync(join(tmpdir(), 'radscreen-rewind-'));
let n = 0;
const open = (tailMaxItems?: number) =>
  openDurableQueue({ path: join(dir, `q${n++}.sqlite`), maxRows: 10_000, maxAgeMs: 3_600_000, ...(tailMaxItems ? { tailMaxItems } : {}) });

describe('rewind keeps what was appended since the failure live', () => {
  for (const mode of ['in-memory tail', 'SQL (tail overflowed)'] as const) {
    it(`rows from the mark on are live, older ones backlog (${mode})`, () => {
      const q = open(mode === 'in-memory tail' ? undefined : 2);
      q.append(['old-1', 'old-2', 'old-3']);
      const inFlight = q.takeLive(2); // taken, then its POST fails
      expect(inFlight?.bodies).toEqual(['old-1', 'old-2']);
      const mark = q.nextId(); // the failure: the backoff starts
      q.append(['fresh-1', 'fresh-2']);
      expect(q.rewind(mark)).toBe(2);
      expect(q.takeLive(10)?.bodies).toEqual(['fresh-1', 'fresh-2']);
      expect(q.takeLive(10)).toBeUndefined();
      expect(q.takeBacklog(10)?.bodies).toEqual(['old-1', 'old-2', 'old-3']);
      expect(q.depth()).toBe(5); // nothing acked, nothing lost
      q.close();
    });
  }

  it('without a mark every row becomes backlog (the agent outbox after a broker outage)', () => {
    const q = open();
    q.append(['a', 'b']);
    expect(q.rewind()).toBe(0);
    expect(q.takeLive(10)).toBeUndefined();
    expect(q.takeBacklog(10)?.bodies).toEqual(['a', 'b']);
    q.close();
  });
});
