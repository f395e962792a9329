import { describe, expect, it } from 'vitest';
import { computeKpis } from '../../src/alarms/kpis.ts';
import type { Alarm, AlarmTransition } from '../../src/alarms/types.ts';

/** A latched interlock alarm that keeps coming back before its reset chatters, though it stays one entry. */
describe('KPIs: chattering counts reactivations of a latched alarm', () => {
  it('reports a (device, rule) raised once and reactivated twice within 60 s as chattering', () => {
    const alarm = {
      id: 'a1',
      station: 's1',
      device: 'scanner',
      rule: 'xray_interlock_beam_on',
      severity: 'emergency',
      source: 'live',
      state: 'active',
      raised_at: 1_000,
    } as unknown as Alarm;
    const t = (kind: AlarmTransition['kind'], ts: number) => ({ v: 1, kind, ts, alarm, annunciate: true }) as AlarmTransition;
    const kpis = computeKpis(
      [t('raised', 1_000), t('cleared', 2_000), t('reactivated', 3_000), t('cleared', 4_000), t('reactivated', 5_000)],
      [],
      60_000,
      3_600_000,
    );
    expect(kpis.chattering).toEqual([{ station: 's1', device: 'scanner', rule: 'xray_interlock_beam_on', raises_in_60s: 3 }]);
    expect(kpis.raised).toBe(1);
  });
});
