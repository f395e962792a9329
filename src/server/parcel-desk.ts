import type { AlarmTransition } from '../alarms/types.ts';
import type { Reading } from '../core/reading.ts';
import type { ParcelStore } from '../parcels/store.ts';
import { createParcelTracker, type ParcelRecord, type ParcelSpectrum, sumSpectra } from '../parcels/tracker.ts';
import type { SpectrumMessage } from '../spectra/contract.ts';
import type { FeedLogger } from './mqtt-feed.ts';

/**
 * The parcel desk: runs the parcel tracker (src/parcels/tracker.ts) on the server's feed. The
 * scanner's light barrier (`bag_present`) opens and closes a parcel, the chute devices' count
 * rates and the spectrometers' spectra measure it, and radiation alarms raised while it is in the
 * tunnel are listed on its record. Records are stored (src/parcels/store.ts) and the newest kept in
 * memory for the API (docs/spectroscopy.md §11).
 *
 * Spectra arrive as running totals (a RadiaCode counts since its last reset), so the desk turns
 * each into the increment since the device's previous one. The increment covering the parcel's
 * exit arrives after the light barrier cleared: the close is held until a spectrum read after the
 * exit has come (or `settle_s` passed), and readings that arrive meanwhile are replayed after it.
 */

export interface ParcelDeskOptions {
  chute: readonly string[];
  significance?: number;
  /** Most seconds a close waits for the spectrum that covers the exit (default 5). */
  settle_s?: number;
  /** Live seconds of spectra kept as the spectrometer's background (default 600). */
  background_live_s?: number;
  /** Records kept (default 200). */
  keep?: number;
  log: FeedLogger;
  /** Where records are kept across restarts; the desk starts with its newest `keep`. */
  store?: ParcelStore;
  /** Every record as it is made (the server adds it to the evidence of the alarms it lists). */
  onRecord?: (record: ParcelView) => void;
}

/** A parcel record as the API serves it: the tracker's record and the alarms raised during it. */
export interface ParcelView extends ParcelRecord {
  alarms: string[];
}

interface Hold {
  closing: Reading;
  alarms: string[];
  timer: NodeJS.Timeout;
  queued: Reading[];
}

export function createParcelDesk(opts: ParcelDeskOptions) {
  const tracker = createParcelTracker({ chute: opts.chute, ...(opts.significance ? { significance: opts.significance } : {}) });
  const keep = opts.keep ?? 200;
  const settleMs = (opts.settle_s ?? 5) * 1000;
  const backgroundLive = opts.background_live_s ?? 600;
  const chute = new Set(opts.chute);
  const records: ParcelView[] = opts.store?.recent(keep) ?? [];
  /** Open parcels by scanner: the alarms raised since they came. */
  const open = new Map<string, { alarms: string[] }>();
  const lastTotal = new Map<string, SpectrumMessage['spectrum']>();
  let background: ParcelSpectrum[] = [];
  let hold: Hold | undefined;

  function record(r: ParcelRecord, alarms: string[]): void {
    const view = { ...r, alarms };
    records.unshift(view);
    if (records.length > keep) records.length = keep;
    try {
      opts.store?.save(view);
    } catch (err) {
      opts.log.warn({ err, parcel: r.id }, 'parcel record not stored; kept in memory');
    }
    opts.onRecord?.(view);
    opts.log.info({ parcel: r.id, verdict: r.verdict, category: r.category }, 'parcel left the tunnel');
  }

  function observe(reading: Reading): void {
    if (hold) {
      hold.queued.push(reading);
      return;
    }
    const bag = reading.values.bag_present;
    if (bag === false && open.has(reading.device)) {
      const alarms = open.get(reading.device)?.alarms ?? [];
      hold = { closing: reading, alarms, queued: [], timer: setTimeout(release, settleMs) };
      return;
    }
    if (bag === true && !open.has(reading.device)) open.set(reading.device, { alarms: [] });
    const done = tracker.observe(reading);
    if (done) record(done, []);
  }

  /** Closes the held parcel and replays what waited behind it. */
  function release(): void {
    const h = hold;
    if (!h) return;
    clearTimeout(h.timer);
    hold = undefined;
    open.delete(h.closing.device);
    const done = tracker.observe(h.closing);
    if (done) record(done, h.alarms);
    for (const r of h.queued) observe(r);
  }

  /** The counts a spectrometer added since its previous spectrum (all of it after a reset). */
  function increment(m: SpectrumMessage): ParcelSpectrum | undefined {
    const s = m.spectrum;
    const prev = lastTotal.get(m.device);
    lastTotal.set(m.device, s);
    if (!prev) return undefined; // since an unknown start: it cannot be placed in time
    const reset =
      prev.channels !== s.channels || s.live_time_s < prev.live_time_s || s.counts.some((c, i) => c < (prev.counts[i] as number));
    if (reset) return { counts: s.counts, calibration: s.calibration, live_time_s: s.live_time_s };
    const live = s.live_time_s - prev.live_time_s;
    if (live <= 0) return undefined;
    return { counts: s.counts.map((c, i) => c - (prev.counts[i] as number)), calibration: s.calibration, live_time_s: live };
  }

  function spectrum(m: SpectrumMessage): void {
    const inc = increment(m);
    const readAt = m.spectrum.ts + m.spectrum.live_time_s * 1000;
    if (inc) {
      if (tracker.open > 0) {
        try {
          tracker.addSpectrum(inc);
        } catch (err) {
          opts.log.warn({ err, device: m.device }, 'spectrum not added to the parcel');
        }
      } else {
        // Background only learns with the tunnel empty, like the count-rate background.
        background.push(inc);
        let live = background.reduce((a, b) => a + b.live_time_s, 0);
        while (background.length > 1 && live - (background[0] as ParcelSpectrum).live_time_s >= backgroundLive) {
          live -= (background.shift() as ParcelSpectrum).live_time_s;
        }
        background = background.filter((b) => b.counts.length === inc.counts.length);
        tracker.setBackgroundSpectrum(sumSpectra(background));
      }
    }
    // A spectrum read after the exit covers it: the held parcel may close now.
    if (hold && readAt >= hold.closing.ts) release();
  }

  return {
    observe,
    spectrum,
    /** An alarm transition: a radiation alarm raised on a chute device while a parcel is in is listed on it. */
    transition(t: AlarmTransition): void {
      if (t.kind !== 'raised' || !chute.has(t.alarm.device)) return;
      for (const o of open.values()) o.alarms.push(t.alarm.id);
      if (hold) hold.alarms.push(t.alarm.id);
    },
    /** Recent parcels, newest first. */
    list(limit = 50): ParcelView[] {
      return records.slice(0, limit);
    },
    /** The record that lists this alarm, if any. */
    forAlarm(alarmId: string): ParcelView | undefined {
      return records.find((r) => r.alarms.includes(alarmId));
    },
    close(): void {
      if (hold) clearTimeout(hold.timer);
      hold = undefined;
    },
  };
}

export type ParcelDesk = ReturnType<typeof createParcelDesk>;
