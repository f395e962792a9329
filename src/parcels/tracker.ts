import { RadscreenError } from '../core/errors.ts';
import type { Reading } from '../core/reading.ts';
import { type Identification, identify } from '../spectra/identify.ts';
import type { NuclideCategory } from '../spectra/library.ts';

/**
 * The parcel as the unit of screening (issue 11 item 1), the pure core: a parcel record opens when
 * the scanner's light barrier reports a bag (`bag_present` true) and closes when it clears. While
 * open, the count rates of the chute devices are summed against the background each device had
 * just before the parcel came (frozen at entry), and the spectrum a spectrometer accumulated over
 * the occupancy is identified. No clock, no I/O: readings in, records out, times from the readings.
 *
 * The server runs it on its MQTT feed (src/server/parcel-desk.ts); docs/spectroscopy.md §11.
 */

export type Verdict = 'clear' | 'nuisance' | 'alarm';

export interface ParcelSpectrum {
  counts: number[];
  calibration: number[];
  live_time_s: number;
}

export interface DeviceMeasurement {
  /** Counts recorded during the occupancy (Σ rate × interval). */
  gross_counts: number;
  /** Background rate frozen when the parcel came, counts per second. */
  background_cps: number;
  /** Gross minus the background expected over the occupancy. */
  net_counts: number;
  /** net / √(expected background): standard deviations above background (Poisson). */
  significance: number;
}

export interface ParcelRecord {
  id: string;
  scanner: string;
  opened_at: number;
  closed_at: number;
  devices: Record<string, DeviceMeasurement>;
  identification?: Identification;
  /** Why the occupancy's spectrum could not be identified (`RS_ERR_…: reason`), when it could not. */
  identification_error?: string;
  verdict: Verdict;
  /** The category the verdict rests on: the worst identified one, absent when nothing was named. */
  category?: NuclideCategory;
}

export interface ParcelTrackerOptions {
  /** Devices in the chute whose count rates belong to the parcel. */
  chute: readonly string[];
  /** σ above background from which a parcel is not clear (default 4). */
  significance?: number;
  /** Background averaging, s: an exponential mean with this time constant (default 60). */
  background_tau_s?: number;
}

/** A category's weight in the verdict: a parcel is as bad as its worst finding. */
const SEVERITY: Record<NuclideCategory, number> = { NORM: 0, medical: 1, industrial: 2, SNM: 3 };
const INNOCENT: ReadonlySet<NuclideCategory> = new Set(['NORM', 'medical']);

/** Counts per second in a reading: `cps`, or `cpm` / 60; undefined when it has neither. */
function rateOf(r: Pick<Reading, 'values'>): number | undefined {
  const cps = r.values.cps;
  if (typeof cps === 'number') return cps;
  const cpm = r.values.cpm;
  return typeof cpm === 'number' ? cpm / 60 : undefined;
}

interface DeviceState {
  background?: number;
  lastTs?: number;
}

interface Open {
  id: string;
  scanner: string;
  opened_at: number;
  frozen: Record<string, number>;
  gross: Record<string, number>;
  spectra: ParcelSpectrum[];
}

export function createParcelTracker(opts: ParcelTrackerOptions) {
  const threshold = opts.significance ?? 4;
  const tau = opts.background_tau_s ?? 60;
  const chute = new Set(opts.chute);
  const devices = new Map<string, DeviceState>();
  const open = new Map<string, Open>();
  let background: ParcelSpectrum | undefined;

  function close(o: Open, at: number): ParcelRecord {
    open.delete(o.scanner);
    const seconds = Math.max(0, (at - o.opened_at) / 1000);
    const measured: Record<string, DeviceMeasurement> = {};
    for (const [device, bg] of Object.entries(o.frozen)) {
      const gross = o.gross[device] ?? 0;
      const expected = bg * seconds;
      const net = gross - expected;
      measured[device] = {
        gross_counts: gross,
        background_cps: bg,
        net_counts: net,
        significance: expected > 0 ? net / Math.sqrt(expected) : net > 0 ? Number.POSITIVE_INFINITY : 0,
      };
    }
    const spectrum = sumSpectra(o.spectra);
    let identification: Identification | undefined;
    let identificationError: string | undefined;
    try {
      identification = spectrum ? identify(spectrum, background ? { background } : {}) : undefined;
    } catch (err) {
      // A spectrum identify refuses (implausible calibration…) must not lose the parcel: it is recorded without.
      identificationError = err instanceof RadscreenError ? `${err.code}: ${err.message}` : String(err);
    }
    const categories = (identification?.nuclides ?? []).map((n) => n.category);
    const category = categories.sort((a, b) => SEVERITY[b] - SEVERITY[a])[0];
    const raised = Object.values(measured).some((m) => m.significance >= threshold);
    // Raised counts with only NORM/medical named are a nuisance to record; anything else raised is an alarm.
    const verdict: Verdict = !raised ? 'clear' : category !== undefined && INNOCENT.has(category) ? 'nuisance' : 'alarm';
    return {
      id: o.id,
      scanner: o.scanner,
      opened_at: o.opened_at,
      closed_at: at,
      devices: measured,
      ...(identification ? { identification } : {}),
      ...(identificationError ? { identification_error: identificationError } : {}),
      verdict,
      ...(category ? { category } : {}),
    };
  }

  return {
    /** One canonical reading; returns the record of a parcel that just left, if any. */
    observe(r: Pick<Reading, 'device' | 'ts' | 'values'>): ParcelRecord | undefined {
      const bag = r.values.bag_present;
      if (typeof bag === 'boolean') {
        const current = open.get(r.device);
        if (bag && !current) {
          const frozen: Record<string, number> = {};
          for (const d of chute) frozen[d] = devices.get(d)?.background ?? 0;
          open.set(r.device, { id: `${r.device}-${r.ts}`, scanner: r.device, opened_at: r.ts, frozen, gross: {}, spectra: [] });
        } else if (!bag && current) return close(current, r.ts);
      }
      const rate = rateOf(r);
      if (rate === undefined || !chute.has(r.device)) return undefined;
      const state = devices.get(r.device) ?? {};
      devices.set(r.device, state);
      const dt = state.lastTs === undefined ? 1 : Math.min(10, Math.max(0, (r.ts - state.lastTs) / 1000));
      state.lastTs = r.ts;
      const busy = [...open.values()];
      if (busy.length === 0) {
        // Background only learns while no parcel is in the chute: a source must not raise its own baseline.
        const w = 1 - Math.exp(-dt / tau);
        state.background = state.background === undefined ? rate : state.background + w * (rate - state.background);
      } else
        for (const o of busy) {
          // A rate covers the interval before its reading: only the part after the parcel came counts.
          const inside = Math.min(dt, Math.max(0, (r.ts - o.opened_at) / 1000));
          o.gross[r.device] = (o.gross[r.device] ?? 0) + rate * inside;
        }
      return undefined;
    },
    /**
     * Counts a spectrometer in the chute recorded during the occupancy (for a RadiaCode: its
     * SPECTRUM read at exit minus the read at entry, since the device accumulates). Spectra of one
     * parcel must share their channel count: they are summed channel by channel.
     * @throws RadscreenError RS_ERR_SPECTRUM_INVALID for a spectrum that cannot be added.
     */
    addSpectrum(spectrum: ParcelSpectrum): void {
      for (const o of open.values()) {
        const first = o.spectra[0];
        if (first && first.counts.length !== spectrum.counts.length)
          throw new RadscreenError(
            'RS_ERR_SPECTRUM_INVALID',
            `parcel ${o.id}: a ${spectrum.counts.length}-channel spectrum cannot be added to ${first.counts.length} channels`,
          );
        o.spectra.push(spectrum);
      }
    },
    /** The spectrometer's background, measured with no parcel present, for subtraction. */
    setBackgroundSpectrum(spectrum: ParcelSpectrum | undefined): void {
      background = spectrum;
    },
    /** Parcels in the tunnel now. */
    get open(): number {
      return open.size;
    },
  };
}

/** Channel-wise sum of spectra of one instrument (same channels and calibration, as a session's reads are). */
export function sumSpectra(spectra: ParcelSpectrum[]): ParcelSpectrum | undefined {
  const first = spectra[0];
  if (!first) return undefined;
  const counts = [...first.counts];
  let live = first.live_time_s;
  for (const s of spectra.slice(1)) {
    for (let i = 0; i < counts.length; i++) counts[i] = (counts[i] as number) + (s.counts[i] as number);
    live += s.live_time_s;
  }
  return { counts, calibration: first.calibration, live_time_s: live };
}
