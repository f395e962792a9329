import { describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { resolveAlarmSettings } from '../../src/alarms/rules-from-config.ts';
import { parseConfig } from '../../src/config/load.ts';

/** The restart and anti-chatter settings of docs/alarm-engine.md can be set in the config, not only as defaults. */
describe('alarm overrides for restart re-use and the interlock off-delay', () => {
  it('carries background.reuse_max_age_s and xray.interlock_off_delay_s from the YAML into the rules', () => {
    const config = parseConfig(
      `
station: { id: st1 }
alarms:
  defaults:
    background: { reuse_max_age_s: 120 }
    xray: { interlock_off_delay_s: 45 }
devices: []
`,
      { catalogue, env: {} },
    );
    const s = resolveAlarmSettings(config.alarms, 'xray-parcel-scanner', 'x1', 60_000);
    expect(s.background?.reuse_max_age_s).toBe(120);
    expect(s.xray.interlock_off_delay_s).toBe(45);
  });
});
