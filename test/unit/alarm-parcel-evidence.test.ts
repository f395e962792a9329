import { describe, expect, it } from 'vitest';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import type { Reading } from '../../src/core/reading.ts';

/** engine.setParcel: the identified parcel an alarm was raised during goes into its evidence. */
const reading = (doseRate: number, ts: number): Reading => ({
  station: 'st1',
  device: 'rc1',
  profile: 'radiacode',
  kind: 'dosimeter',
  ts,
  ts_source: 'agent',
  values: { cps: 10, dose_rate: doseRate },
  quality: 'good',
  source: 'simulated',
});
const parcel = {
  id: 'xray1-1',
  verdict: 'alarm' as const,
  category: 'industrial',
  nuclides: [{ nuclide: 'Cs-137', category: 'industrial', confidence: 0.97 }],
};

describe('alarm evidence: the parcel', () => {
  it('is added to an open alarm (transition identified) and to a closed one, and refused for an unknown alarm', () => {
    let now = 1_700_000_000_000;
    const engine = createAlarmEngine({ now: () => now, thresholds: { default: { threshold_usvh: 1, deadband_usvh: 0.2 } } });
    const [raised] = engine.evaluate(reading(5, now));
    expect(raised?.kind).toBe('raised');
    const id = raised?.alarm.id as string;
    const [t] = engine.setParcel(id, parcel);
    expect(t?.kind).toBe('identified');
    expect(engine.get(id)?.evidence.parcel).toEqual(parcel);
    expect(engine.get(id)?.evidence.value).toBe(5); // the rule's evidence is kept as it was

    now += 5000;
    engine.evaluate(reading(0.1, now));
    engine.acknowledge(id, { user: 'op' });
    expect(engine.get(id)?.closed_at).toBeDefined();
    const later = { ...parcel, category: 'SNM' };
    expect(engine.setParcel(id, later)[0]?.kind).toBe('identified');
    expect(engine.get(id)?.evidence.parcel?.category).toBe('SNM');
    expect(() => engine.setParcel('st1:nope', parcel)).toThrow(/no alarm/);
    engine.close();
  });
});
