/**
 * In-process "durably stored" receipts from ingest to the agent's publishers, for the
 * single-process station: there the embedded aedes broker keeps its queues in memory, so its
 * PUBACK does not make a reading safe. With receipts, a publisher keeps a reading in its outbox
 * after the PUBACK until ingest confirms that the reading is committed to its spool.
 *
 * A reading is named by station + device + its point time in µs (`pointTimeUs`: ts and seq), its
 * deterministic point identity (what makes a re-sent point overwrite itself in InfluxDB), so a
 * confirmation of any copy of a reading confirms them all, and never a sibling stamped in the same ms.
 */

/** Listener for one station/device: the point times (µs, `pointTimeUs`) of the readings now durable in ingest. Must not throw. */
export type ReceiptListener = (ts: readonly number[]) => void;

export interface DurableReceipts {
  /** Ingest: these readings of station/device are committed to the spool. */
  confirm(station: string, device: string, ts: readonly number[]): void;
  /** Publisher: hear confirmations for one station/device; returns the unsubscribe function. */
  listen(station: string, device: string, fn: ReceiptListener): () => void;
}

/** Creates the hub one station shares between its ingest and its agent. */
export function createDurableReceipts(): DurableReceipts {
  const listeners = new Map<string, Set<ReceiptListener>>();
  const key = (station: string, device: string) => `${station}\u0000${device}`;
  return {
    confirm(station, device, ts) {
      const set = listeners.get(key(station, device));
      if (set) for (const fn of set) fn(ts);
    },
    listen(station, device, fn) {
      const k = key(station, device);
      const set = listeners.get(k) ?? new Set<ReceiptListener>();
      listeners.set(k, set);
      set.add(fn);
      return () => void set.delete(fn);
    },
  };
}
