import { z } from 'zod';
import { type Spectrum, SpectrumSchema } from './spectrum.ts';

/**
 * The spectrum message of MQTT contract v1 (README "MQTT contract v1"): one canonical spectrum per
 * message on `radscreen/v1/{station}/{device}/spectrum`. The agent validates before publishing,
 * the server again on receipt; a refused payload is dead-lettered with its RS_ERR_* code.
 */

/**
 * Largest spectrum payload, bytes, checked BEFORE JSON.parse: 16,384 channels (the spectrum
 * bound) of up to 8 digits and a comma each is about 150 KiB; 256 KiB leaves room for the rest.
 * It stays below the broker's default packet limit (1 MiB + 64 KiB).
 */
export const MAX_SPECTRUM_PAYLOAD_BYTES = 256 * 1024;

export const SpectrumMessageSchema = z.object({
  v: z.literal(1),
  station: z.string().min(1).max(64),
  device: z.string().min(1).max(64),
  spectrum: SpectrumSchema,
});
export type SpectrumMessage = z.infer<typeof SpectrumMessageSchema>;

export type SpectrumRefusal = {
  ok: false;
  code: 'RS_ERR_PAYLOAD_JSON' | 'RS_ERR_PAYLOAD_TOO_LARGE' | 'RS_ERR_SPECTRUM_INVALID';
  reason: string;
};

/** Parses a spectrum payload: size bound first, then JSON, then the schema (with zod's paths in the reason). */
export function parseSpectrumMessage(payload: Buffer): { ok: true; message: SpectrumMessage } | SpectrumRefusal {
  if (payload.length > MAX_SPECTRUM_PAYLOAD_BYTES)
    return {
      ok: false,
      code: 'RS_ERR_PAYLOAD_TOO_LARGE',
      reason: `spectrum payload of ${payload.length} bytes exceeds ${MAX_SPECTRUM_PAYLOAD_BYTES}`,
    };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    return { ok: false, code: 'RS_ERR_PAYLOAD_JSON', reason: (e as Error).message };
  }
  const parsed = SpectrumMessageSchema.safeParse(json);
  if (!parsed.success) return { ok: false, code: 'RS_ERR_SPECTRUM_INVALID', reason: z.prettifyError(parsed.error) };
  return { ok: true, message: parsed.data };
}

/** The message the agent publishes for one validated spectrum. */
export function spectrumMessage(station: string, device: string, spectrum: Spectrum): SpectrumMessage {
  return { v: 1, station, device, spectrum };
}
