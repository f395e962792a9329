import { describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { CalibrationConfigSchema } from '../../src/calibration/config.ts';
import { judgeFactor } from '../../src/calibration/plausibility.ts';
import { parseConfig } from '../../src/config/load.ts';

/** Plausible ranges: derived from the profile's reference, configurable per profile and device; the 10× ceiling is fixed. */
describe('calibration plausibility', () => {
  const geiger = catalogue.get('mightyohm-geiger');
  const radpro = catalogue.get('radpro');
  const ref = 10_000 / 57;
  const defaults = CalibrationConfigSchema.parse({});
  const dev = { id: 'g1', profile: 'mightyohm-geiger' };

  it('derives ±50 % from the profile default, 0.5–2 for a correction, and refuses beyond 10×', () => {
    expect(judgeFactor(ref * 1.49, dev, geiger, defaults).verdict).toBe('plausible');
    expect(judgeFactor(ref * 1.51, dev, geiger, defaults).verdict).toBe('needs_approval');
    expect(judgeFactor(ref * 0.49, dev, geiger, defaults).verdict).toBe('needs_approval');
    expect(judgeFactor(ref * 10, dev, geiger, defaults).verdict).toBe('needs_approval');
    expect(judgeFactor(ref * 10.01, dev, geiger, defaults).verdict).toBe('refused');
    expect(judgeFactor(ref / 10.01, dev, geiger, defaults).verdict).toBe('refused');
    const rp = { id: 'r1', profile: 'radpro' };
    expect(judgeFactor(2, rp, radpro, defaults).verdict).toBe('plausible');
    expect(judgeFactor(2.01, rp, radpro, defaults).verdict).toBe('needs_approval');
    expect(judgeFactor(10.01, rp, radpro, defaults).verdict).toBe('refused');
    expect(judgeFactor(Number.NaN, rp, radpro, defaults).verdict).toBe('refused');
  });

  it("takes the device's own tube sensitivity as the reference", () => {
    expect(judgeFactor(1500, { ...dev, options: { sensitivity: 1000 } }, geiger, defaults).verdict).toBe('plausible');
    expect(judgeFactor(1500, dev, geiger, defaults).verdict).toBe('needs_approval');
  });

  it('takes per-device over per-profile ranges from the config, but never past the ceiling', () => {
    const config = parseConfig(
      `station: { id: s }
calibration:
  sensitivity_tolerance: 0.2
  profiles: { mightyohm-geiger: { min: 100, max: 300 } }
  devices: { g2: { min: 400, max: 5000 } }
`,
      { env: {} },
    ).calibration;
    expect(judgeFactor(290, dev, geiger, config).verdict).toBe('plausible');
    expect(judgeFactor(450, { id: 'g2', profile: 'mightyohm-geiger' }, geiger, config).verdict).toBe('plausible');
    expect(judgeFactor(2000, { id: 'g2', profile: 'mightyohm-geiger' }, geiger, config).verdict).toBe('refused');
    const gq = catalogue.get('gq-gmc');
    const gqRef = gq?.defaultSensitivity as number;
    expect(judgeFactor(gqRef * 1.25, { id: 'q', profile: 'gq-gmc' }, gq, config).verdict).toBe('needs_approval');
    const problems = (yaml: string) => {
      try {
        parseConfig(yaml, { env: {} });
        return [];
      } catch (e) {
        return (e as { details: string[] }).details;
      }
    };
    expect(problems('station: { id: s }\ncalibration: { correction: { min: 2, max: 1 } }\n')).toEqual([
      'calibration.correction: `min` must be below `max`',
    ]);
    expect(problems('station: { id: s }\ncalibration: { key: nothex }\n')).toEqual([
      'calibration.key: 64 hex digits (the content of the key file)',
    ]);
  });
});
