import { RadscreenError, reject } from '../core/errors.ts';
import type { DeviceSession, SessionContext } from '../core/profile.ts';
import type { FileFormat } from './formats.ts';
import { type N42Instrument, parseN42Document } from './n42.ts';

/** Largest N42 document accepted; real ones are KB to a few MB (a 16384-channel HPGe file is 54 KB). */
export const MAX_DOCUMENT_BYTES = 32 * 1024 * 1024;

/** The root's end tag, with or without a namespace prefix, ends one document. */
const END_TAG = /<\/(?:[A-Za-z_][\w.-]*:)?RadInstrumentData\s*>/;
/** Bytes of the previous chunk searched again, so an end tag split across chunks is found. */
const OVERLAP = 64;

/**
 * A session over a byte stream of N42.42-2011 documents (one file, or several back to back).
 * Bytes are buffered until the root element closes; then the whole document decodes to one
 * reading per `RadMeasurement`, or is one RS_ERR_FRAME_SYNTAX reject naming what is wrong.
 * Bytes left over at `stop()` that are not whitespace are a RS_ERR_FRAME_TRUNCATED reject.
 */
export function createN42Session(ctx: SessionContext): DeviceSession {
  let parts: Buffer[] = [];
  let size = 0;
  let stopped = false;

  function takeDocuments(chunk: Buffer): void {
    const searchFrom = Math.max(0, size - OVERLAP);
    parts.push(chunk);
    size += chunk.length;
    let all = Buffer.concat(parts, size);
    let from = searchFrom;
    for (;;) {
      const m = END_TAG.exec(all.subarray(from).toString('latin1'));
      if (!m) break;
      const end = from + m.index + m[0].length;
      decodeDocument(all.subarray(0, end));
      all = all.subarray(end);
      from = 0;
    }
    parts = all.length > 0 ? [all] : [];
    size = all.length;
    if (size > MAX_DOCUMENT_BYTES) {
      ctx.reject(reject('RS_ERR_FRAME_OVERSIZE', `no </RadInstrumentData> within ${MAX_DOCUMENT_BYTES} bytes`, all.subarray(0, 64)));
      parts = [];
      size = 0;
    }
  }

  function decodeDocument(bytes: Buffer): void {
    try {
      // What separated this document from the previous one (a newline, a BOM) is not part of it.
      const doc = parseN42Document(bytes.toString('utf8').replace(/^[\s\uFEFF]+/, ''));
      ctx.log.info({ instrument: doc.instrument, uuid: doc.uuid, measurements: doc.readings.length }, 'N42 document');
      for (const r of doc.readings) ctx.emit(r);
    } catch (e) {
      if (!(e instanceof RadscreenError)) throw e;
      ctx.reject(reject(e.code, e.message, bytes.subarray(0, 64)));
    }
  }

  return {
    push(chunk) {
      if (!stopped && chunk.length > 0) takeDocuments(chunk);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      const rest = Buffer.concat(parts, size);
      if (rest.toString('latin1').trim().length > 0)
        ctx.reject(
          reject(
            'RS_ERR_FRAME_TRUNCATED',
            `input ended inside an N42 document (${rest.length} bytes without </RadInstrumentData>)`,
            rest.subarray(0, 64),
          ),
        );
      parts = [];
      size = 0;
    },
  };
}

/** A device id for tags and topics from the instrument's serial number, else its model. */
export function deviceIdFor(instrument: N42Instrument): string {
  const raw = instrument.identifier ?? instrument.model;
  const id = raw
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  return id.length > 0 ? id : 'n42';
}

/**
 * ANSI N42.42-2011 files as an import format (not a catalogued device: N42 is a file format, not
 * a link; see src/importers/README.md). Readings carry profile id `ansi-n42`.
 */
export const ansiN42: FileFormat = {
  id: 'ansi-n42',
  vendor: 'ANSI',
  model: 'N42.42-2011 document',
  kind: 'survey_meter',
  description: 'ANSI N42.42-2011 XML files (spectra, gross counts, dose rate), one reading per RadMeasurement.',
  channels: [
    { key: 'real_time', unit: 's', label: 'measurement real (clock) time', min: 0 },
    { key: 'live_time', unit: 's', label: 'live time of the (first) spectrum', min: 0 },
    { key: 'spectrum_counts', unit: 'counts', label: 'counts summed over every channel of every spectrum', min: 0 },
    { key: 'spectrum_channels', unit: 'channels', label: 'channels in the (first) spectrum', min: 0 },
    { key: 'gross_counts', unit: 'counts', label: 'gross counts (GrossCounts/CountData, summed)', min: 0 },
    { key: 'gross_live_time', unit: 's', label: 'live time of the gross counts', min: 0 },
    { key: 'cps', unit: 'CPS', label: 'gross count rate (counts / live time)', min: 0 },
    { key: 'dose_rate', unit: 'uSv/h', label: 'ambient dose rate (DoseRate, or ExposureRate × 10)', min: 0 },
    { key: 'total_dose', unit: 'uSv', label: 'accumulated dose', min: 0 },
    {
      key: 'measurement_class',
      unit: 'enum',
      type: 'enum',
      label: 'N42 MeasurementClassCode',
      values: ['Foreground', 'Background', 'Calibration', 'IntrinsicActivity', 'NotSpecified'],
    },
  ],
  measurement: 'radiation',
  staleAfterMs: 0,
  createSession: createN42Session,
  identify(bytes) {
    try {
      const doc = parseN42Document(bytes.toString('utf8').replace(/^[\s\uFEFF]+/, ''));
      return { device: deviceIdFor(doc.instrument), description: `${doc.instrument.manufacturer} ${doc.instrument.model}` };
    } catch {
      // The session reports what is wrong; identification just falls back to the default id.
      return undefined;
    }
  },
};
