/** What a durable queue (durable-queue.ts) hands out: contiguous rows, and how to cut them into messages. */

/** A contiguous run of rows, oldest first. */
export interface QueueBatch {
  firstId: number;
  lastId: number;
  /** One string per row: a single item, or several items joined by the queue's separator. */
  bodies: string[];
  /** Items per row, parallel to `bodies`. */
  counts: number[];
  /** Row ids, parallel to `bodies` (ascending). */
  ids: number[];
  /** Items in the batch (the sum of `counts`). */
  items: number;
}

/** Splits a batch at row boundaries into batches of at most `maxItems` items (a bigger row goes alone). */
export function splitBatch(batch: QueueBatch, maxItems: number): QueueBatch[] {
  const out: QueueBatch[] = [];
  let cur: QueueBatch | undefined;
  for (let i = 0; i < batch.bodies.length; i++) {
    const n = batch.counts[i] as number;
    const id = batch.ids[i] as number;
    if (!cur || cur.items + n > maxItems) {
      cur = { firstId: id, lastId: id, bodies: [], counts: [], ids: [], items: 0 };
      out.push(cur);
    }
    cur.bodies.push(batch.bodies[i] as string);
    cur.counts.push(n);
    cur.ids.push(id);
    cur.items += n;
    cur.lastId = id;
  }
  return out;
}
