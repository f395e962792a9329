import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../simulators/physics.ts';
import { RadscreenError } from '../../src/core/errors.ts';
import { identify } from '../../src/spectra/identify.ts';
import { readSpectrumFile } from '../../src/spectra/read.ts';
import { SpectrumSchema } from '../../src/spectra/spectrum.ts';

const SOURCES = [readFileSync('src/spectra/fixtures/Cs137_b.xml', 'utf8'), readFileSync('src/importers/fixtures/data_am241.n42', 'utf8')];
const ALLOWED = new Set(['RS_ERR_SPECTRUM_INVALID', 'RS_ERR_FRAME_SYNTAX', 'RS_ERR_CALIBRATION_IMPLAUSIBLE']);

/** One random edit: delete, duplicate or overwrite a slice, or splice in XML-ish noise. */
function mutate(text: string, random: () => number): string {
  const at = Math.floor(random() * text.length);
  const len = Math.floor(random() * 40);
  const noise = ['<', '>', '</Spectrum>', '0 0', '-1', '1e999', 'NaN', '&amp;', '<![CDATA[', '"', '\u0000', '<DataPoint>7</DataPoint>'];
  switch (Math.floor(random() * 4)) {
    case 0:
      return text.slice(0, at) + text.slice(at + len);
    case 1:
      return text.slice(0, at) + text.slice(at, at + len) + text.slice(at);
    case 2:
      return text.slice(0, at) + (noise[Math.floor(random() * noise.length)] as string) + text.slice(at + 1);
    default:
      return text.slice(0, at) + String(Math.floor(random() * 1e6)) + text.slice(at);
  }
}

describe('spectrum readers and identification under malformed input', () => {
  it('300 mutated files: either a valid spectrum that identifies, or a coded error — never anything else', () => {
    const random = seededRandom(11);
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 300; i++) {
      let text = SOURCES[i % SOURCES.length] as string;
      for (let k = 0; k < 1 + Math.floor(random() * 3); k++) text = mutate(text, random);
      try {
        const { spectra } = readSpectrumFile(text);
        for (const s of spectra) {
          expect(SpectrumSchema.safeParse(s).success).toBe(true);
          identify(s);
        }
        accepted++;
      } catch (e) {
        if (!(e instanceof RadscreenError) || !ALLOWED.has(e.code)) throw e;
        rejected++;
      }
    }
    expect(accepted).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });

  it('degenerate spectra: all zero, flat, tiny and huge channel counts identify nothing; a one-channel spike is no peak', () => {
    const base = { calibration: [0, 3], live_time_s: 1 };
    expect(identify({ ...base, counts: new Array(1024).fill(0) }).nuclides).toEqual([]);
    // A one-channel spike is not a detector peak (peaks.ts isSpike), wherever it sits.
    for (const channel of [100, 250, 500, 600]) {
      const hot = new Array(1024).fill(0);
      hot[channel] = 1e6;
      const r = identify({ ...base, counts: hot });
      expect(r.peaks, `channel ${channel}`).toEqual([]);
    }
    expect(identify({ calibration: [0, 30], counts: new Array(16).fill(5) }).nuclides).toEqual([]);
    expect(identify({ calibration: [0, 0.2], counts: new Array(16_384).fill(3) }).nuclides).toEqual([]);
  });
});
