import { describe, expect, it } from 'vitest';
import { gqGmc } from '../../devices/gq-gmc/profile.ts';
import { mightyohmGeiger } from '../../devices/mightyohm-geiger/profile.ts';
import { radpro } from '../../devices/radpro/profile.ts';
import { RadscreenError } from '../../src/core/errors.ts';
import { type DeviceProfile, parseSessionOptions } from '../../src/core/profile.ts';

/** Sessions get options their profile's schema produced: typed, defaults filled in, never re-parsed. */
describe('parseSessionOptions', () => {
  it('fills in the schema defaults a session relies on', () => {
    const o = parseSessionOptions(radpro, { download_datalog: true });
    expect(o.poll_interval_ms).toBe(2_000);
    expect(o.download_datalog).toBe(true);
    const g = parseSessionOptions(gqGmc, { timezone: 'UTC' });
    expect(g).toMatchObject({ model: 'auto', mode: 'poll', poll_interval_s: 1, timezone: 'UTC' });
  });

  it('is idempotent, so options parsed at the boundary may be parsed again', () => {
    const once = parseSessionOptions(gqGmc, { mode: 'heartbeat', timezone: 'Europe/Berlin' });
    expect(parseSessionOptions(gqGmc, once)).toEqual(once);
  });

  it('refuses bad options with RS_ERR_CONFIG_INVALID and one line per problem', () => {
    const bad = () => parseSessionOptions(radpro, { poll_interval_ms: 10, tube: 'M4011' });
    expect(bad).toThrow(RadscreenError);
    try {
      bad();
    } catch (e) {
      expect((e as RadscreenError).code).toBe('RS_ERR_CONFIG_INVALID');
      expect((e as RadscreenError).details).toEqual([expect.stringMatching(/^options\.poll_interval_ms: /), expect.stringMatching(/tube/)]);
    }
  });

  it('refuses options for a profile without a schema', () => {
    const bare: DeviceProfile = { ...mightyohmGeiger, optionsSchema: undefined } as DeviceProfile;
    expect(parseSessionOptions(bare, {})).toEqual({});
    expect(() => parseSessionOptions(bare, { x: 1 })).toThrow(/takes no options/);
  });
});
