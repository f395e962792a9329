import type { Reading } from '../core/reading.ts';

/** Largest `seq` (src/core/reading.ts): identities are stored at µs precision as `ts * 1000 + seq`. */
const MAX_SEQ = 999;
/**
 * How far back the receiving clock may step (NTP correction) and still continue the last
 * millisecond's sequence rather than start over at the earlier time; beyond it we take the clock.
 */
const CONTINUE_WITHIN_MS = 1000;

/**
 * Point identity of agent-stamped readings (docs/agent.md "Point identity").
 *
 * A device without its own clock gets the agent's receive time in ms; a burst (a broker's backlog
 * after an outage, a fast device) puts many readings in one millisecond, and with the same
 * (measurement, tags, ts) they would overwrite each other in InfluxDB. So, per device, when a
 * reading enters the outbox it gets `seq`: 0 for the first reading of a millisecond, 1, 2, … for
 * the next ones. If a millisecond would need more than 1000 (seq > 999), `ts` moves forward by
 * 1 ms and counting starts again at 0: identities stay unique at the cost of shifting a reading
 * by at most (burst size / 1000) ms, far below any device's own resolution.
 *
 * The stamp is written into the outbox row, so a re-send after a failure or a restart carries the
 * same identity (deterministic on replay). Readings stamped by the device's clock are left alone:
 * their identity is the device's timestamp, so the same reading delivered twice overwrites itself.
 */
export function createSeqStamper() {
  let lastTs = Number.NEGATIVE_INFINITY;
  let lastSeq = -1;
  return {
    /** Returns the reading with `ts`/`seq` set (a copy), or the same object for device-clocked readings. */
    stamp(reading: Reading): Reading {
      if (reading.ts_source !== 'agent') return reading;
      let ts = reading.ts;
      let seq = 0;
      // Same ms, or a ms already passed by an overflow shift or a small clock step back: continue.
      if (ts <= lastTs && lastTs - ts <= CONTINUE_WITHIN_MS) {
        ts = lastTs;
        seq = lastSeq + 1;
        if (seq > MAX_SEQ) {
          // A thousand readings in one ms: move on to the next ms rather than reuse an identity.
          ts += 1;
          seq = 0;
        }
      }
      lastTs = ts;
      lastSeq = seq;
      return { ...reading, ts, seq };
    },
  };
}
