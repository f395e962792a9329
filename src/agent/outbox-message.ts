import type { QueueBatch } from '../queue/queue-batch.ts';

/**
 * Outbox rows → MQTT messages. Rows hold one event-loop turn's readings (up to `rowItems`), one
 * reading's JSON per line; a message holds at most `maxPerMessage` readings, so a row may become
 * many messages (one reading per message) or several rows one message (a coalescing window).
 * A row is deleted once every message that carries part of it has been acknowledged.
 */

/** A row being published: `open` counts its messages not yet acknowledged; `items` its readings. */
export interface OutboxRow {
  id: number;
  open: number;
  items: number;
}

/** One MQTT message: readings' JSON joined by `,`, and the rows it carries part of. */
export interface OutboxMessage {
  body: string;
  items: number;
  rows: OutboxRow[];
}

/** Cuts a batch of rows (items joined by `\n`) into messages of at most `maxPerMessage` readings. */
export function cutMessages(batch: QueueBatch, maxPerMessage: number): OutboxMessage[] {
  const out: OutboxMessage[] = [];
  let cur: OutboxMessage | undefined;
  const start = (body: string, items: number, row: OutboxRow) => {
    cur = { body, items, rows: [row] };
    row.open++;
    out.push(cur);
  };
  for (let i = 0; i < batch.bodies.length; i++) {
    const n = batch.counts[i] as number;
    const row: OutboxRow = { id: batch.ids[i] as number, open: 0, items: n };
    const body = n === 1 ? (batch.bodies[i] as string) : (batch.bodies[i] as string).replaceAll('\n', ',');
    if (cur && cur.items + n <= maxPerMessage) {
      cur.body += `,${body}`;
      cur.items += n;
      cur.rows.push(row);
      row.open++;
    } else if (n <= maxPerMessage) start(body, n, row);
    else {
      const items = (batch.bodies[i] as string).split('\n');
      for (let k = 0; k < items.length; k += maxPerMessage) {
        const part = items.slice(k, k + maxPerMessage);
        start(part.join(','), part.length, row);
      }
      cur = undefined;
    }
  }
  return out;
}

/** Contiguous id ranges of `ids` (any order), for one DELETE … BETWEEN each. */
export function idRanges(ids: number[]): { firstId: number; lastId: number }[] {
  const sorted = [...ids].sort((a, b) => a - b);
  const out: { firstId: number; lastId: number }[] = [];
  for (const id of sorted) {
    const last = out[out.length - 1];
    if (last && id === last.lastId + 1) last.lastId = id;
    else out.push({ firstId: id, lastId: id });
  }
  return out;
}
