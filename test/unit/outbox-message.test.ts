import { describe, expect, it } from 'vitest';
import { cutMessages, idRanges } from '../../src/agent/outbox-message.ts';
import type { QueueBatch } from '../../src/queue/queue-batch.ts';

/** Rows of readings (joined by `\n`) → MQTT messages of at most maxPerMessage readings. */
const batch = (rows: string[][], firstId = 1): QueueBatch => ({
  firstId,
  lastId: firstId + rows.length - 1,
  bodies: rows.map((r) => r.join('\n')),
  counts: rows.map((r) => r.length),
  ids: rows.map((_, i) => firstId + i),
  items: rows.reduce((n, r) => n + r.length, 0),
});

describe('outbox rows → messages', () => {
  it('one reading per message: a row of three becomes three messages, all holding that row', () => {
    const ms = cutMessages(batch([['{"a":1}', '{"a":2}', '{"a":3}']]), 1);
    expect(ms.map((m) => m.body)).toEqual(['{"a":1}', '{"a":2}', '{"a":3}']);
    const row = ms[0]?.rows[0];
    expect(row?.open).toBe(3);
    expect(ms.every((m) => m.rows[0] === row)).toBe(true);
  });

  it('coalescing: small rows share a message up to the limit; JSON stays valid', () => {
    const ms = cutMessages(batch([['{"a":1}', '{"a":2}'], ['{"a":3}'], ['{"a":4}', '{"a":5}']], 10), 3);
    expect(ms.map((m) => JSON.parse(`[${m.body}]`).length)).toEqual([3, 2]);
    expect(ms.map((m) => m.rows.map((r) => r.id))).toEqual([[10, 11], [12]]);
  });

  it('a row bigger than a message is split; contiguous acked ids become one range', () => {
    const ms = cutMessages(batch([Array.from({ length: 5 }, (_, i) => `{"a":${i}}`)]), 2);
    expect(ms.map((m) => m.items)).toEqual([2, 2, 1]);
    expect(idRanges([7, 3, 4, 5, 9, 8])).toEqual([
      { firstId: 3, lastId: 5 },
      { firstId: 7, lastId: 9 },
    ]);
  });
});
