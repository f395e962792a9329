import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { profiles } from '../../devices/index.ts';
import { simulatorControls, simulators } from '../../simulators/index.ts';
import { AlarmOverridesSchema } from '../../src/config/schema.ts';
import { ChannelSpecSchema } from '../../src/core/channel.ts';
import { DeviceKindSchema } from '../../src/core/reading.ts';

const devicesDir = new URL('../../devices/', import.meta.url).pathname;
const folders = readdirSync(devicesDir).filter((f) => statSync(join(devicesDir, f)).isDirectory());

/** Invariants every device family must keep; a new folder that breaks one fails here. */
describe('device catalogue', () => {
  it('registers every folder under devices/ and nothing else', () => {
    expect(profiles.map((p) => p.id).sort()).toEqual([...folders].sort());
  });

  it('has unique ids', () => {
    expect(new Set(profiles.map((p) => p.id)).size).toBe(profiles.length);
  });

  it('has simulators and control panels only for registered profiles', () => {
    const ids = new Set(profiles.map((p) => p.id));
    expect([...simulators.keys(), ...simulatorControls.keys()].filter((k) => !ids.has(k))).toEqual([]);
  });

  describe.each(profiles.map((p) => [p.id, p] as const))('%s', (id, profile) => {
    it('has a vendor-model id, a kind and a link', () => {
      expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(DeviceKindSchema.safeParse(profile.kind).success).toBe(true);
      expect(['serial', 'mqtt']).toContain(profile.link.type);
      expect(profile.staleAfterMs).toBeGreaterThan(0);
    });

    it('declares every channel with a unit, once', () => {
      expect(profile.channels.length).toBeGreaterThan(0);
      for (const c of profile.channels) expect(ChannelSpecSchema.safeParse(c).success, `channel ${c.key}`).toBe(true);
      expect(new Set(profile.channels.map((c) => c.key)).size).toBe(profile.channels.length);
    });

    it('declares the display resolution of every dose-rate channel (the console rounds to it)', () => {
      const doseRates = profile.channels.filter((c) => c.unit === 'uSv/h');
      for (const c of doseRates) expect(c.resolution, `channel ${c.key}`).toBeGreaterThan(0);
    });

    it('ships fixtures, a README and a simulator', () => {
      const dir = join(devicesDir, id);
      expect(existsSync(join(dir, 'README.md')), 'README.md').toBe(true);
      expect(existsSync(join(dir, 'fixtures')) && readdirSync(join(dir, 'fixtures')).length > 0, 'fixtures/').toBe(true);
      expect(simulators.has(id), 'simulators/index.ts entry').toBe(true);
    });

    it('declares its alarm defaults and console tile in the profile, in the config schema', () => {
      expect(['dose', 'scanner', undefined]).toContain(profile.tile);
      const r = AlarmOverridesSchema.strict().safeParse(profile.alarmDefaults ?? {});
      expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
    });

    it('has a simulator offering every control its control panel declares', () => {
      const create = simulators.get(id);
      const controls = simulatorControls.get(id) ?? {};
      if (!create) throw new Error(`no simulator for ${id}`);
      const sim = create({ write() {}, onData() {} }, { background_usvh: 0.1, events: [], seed: 1, tick_ms: 1000 }) as unknown as Record<
        string,
        unknown
      >;
      for (const method of Object.keys(controls)) expect(typeof sim[method], `${id} control ${method}`).toBe('function');
      expect(typeof sim.start).toBe('function');
    });
  });
});
