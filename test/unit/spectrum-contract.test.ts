import { describe, expect, it } from 'vitest';
import { parseTopic, topics } from '../../src/core/contract.ts';
import { MAX_SPECTRUM_PAYLOAD_BYTES, parseSpectrumMessage, spectrumMessage } from '../../src/spectra/contract.ts';

const spectrum = {
  channels: 16,
  counts: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  calibration: [-6.4, 2.37, 4.4e-4],
  live_time_s: 12,
  device: 'rc1',
  model: 'RadiaCode-102',
  ts: 1_700_000_000_000,
  measurement_class: 'Foreground' as const,
};
const encode = (m: unknown) => Buffer.from(JSON.stringify(m));

describe('spectrum message (MQTT contract v1)', () => {
  it('has its own topic per device, parsed back by parseTopic', () => {
    expect(topics.spectrum('s1', 'rc1')).toBe('radscreen/v1/s1/rc1/spectrum');
    expect(parseTopic(topics.spectrum('s1', 'rc1'))).toEqual({ station: 's1', device: 'rc1', leaf: 'spectrum' });
    expect(topics.allSpectra('s1')).toBe('radscreen/v1/s1/+/spectrum');
  });

  it('accepts a canonical spectrum and returns it unchanged', () => {
    const r = parseSpectrumMessage(encode(spectrumMessage('s1', 'rc1', spectrum)));
    expect(r.ok && r.message.spectrum.counts).toEqual(spectrum.counts);
  });

  it('refuses counts that disagree with channels, negative counts and zero live time with RS_ERR_SPECTRUM_INVALID and the path', () => {
    for (const [bad, path] of [
      [{ ...spectrum, counts: spectrum.counts.slice(1) }, 'counts'],
      [{ ...spectrum, counts: spectrum.counts.map((c) => -c - 1) }, 'counts'],
      [{ ...spectrum, live_time_s: 0 }, 'live_time_s'],
    ] as const) {
      const r = parseSpectrumMessage(encode({ v: 1, station: 's1', device: 'rc1', spectrum: bad }));
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe('RS_ERR_SPECTRUM_INVALID');
        expect(r.reason).toContain(path);
      }
    }
  });

  it('refuses a payload over the bound before parsing it, and garbage as JSON', () => {
    const huge = Buffer.alloc(MAX_SPECTRUM_PAYLOAD_BYTES + 1, 0x20);
    expect(parseSpectrumMessage(huge)).toMatchObject({ ok: false, code: 'RS_ERR_PAYLOAD_TOO_LARGE' });
    expect(parseSpectrumMessage(Buffer.from('{"v":1,'))).toMatchObject({ ok: false, code: 'RS_ERR_PAYLOAD_JSON' });
  });

  it('a full 16,384-channel spectrum of large counts fits the bound', () => {
    const big = { ...spectrum, channels: 16_384, counts: new Array(16_384).fill(99_999_999) };
    const payload = encode(spectrumMessage('s1', 'rc1', big));
    expect(payload.length).toBeLessThanOrEqual(MAX_SPECTRUM_PAYLOAD_BYTES);
    expect(parseSpectrumMessage(payload).ok).toBe(true);
  });
});
