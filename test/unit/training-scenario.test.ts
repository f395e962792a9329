import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RadscreenError } from '../../src/core/errors.ts';
import { toScenarioYaml } from '../../src/training/replay-format.ts';
import { listScenarios, parseScenario, SCENARIO_DIR, trainingDevices } from '../../src/training/scenario.ts';

/** The problems of a scenario text as `path: message` lines (empty when it is valid). */
function problemsOf(text: string, fileName?: string): string[] {
  try {
    parseScenario(text, fileName ? { fileName } : {});
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(RadscreenError);
    expect((e as RadscreenError).code).toBe('RS_ERR_SCENARIO_INVALID');
    return (e as RadscreenError).details as string[];
  }
}

const VALID = `
name: door-drill
title: Door drill
description: Open the door, watch the alarm.
duration_s: 60
devices:
  - id: scanner
    profile: xray-parcel-scanner
    simulate: { seed: 3 }
    actions:
      - { at_s: 20, call: openDoor, args: [1] }
      - { at_s: 40, call: reset }
  - id: geiger
    profile: mightyohm-geiger
    simulate: { events: [{ at_s: 5, duration_s: 3, peak_usvh: 1 }] }
    cable_pull: [{ at_s: 10, action: unplug }, { at_s: 20, action: replug }]
`;

describe('scenario files', () => {
  it('accepts a valid scenario and prefixes its device ids with training-, source training', () => {
    const s = parseScenario(VALID);
    expect(s.devices[0]?.actions[1]).toEqual({ at_s: 40, call: 'reset', args: [] });
    const devices = trainingDevices(s);
    expect(devices.map((d) => d.id)).toEqual(['training-scanner', 'training-geiger']);
    expect(devices.every((d) => d.source === 'training' && d.simulate)).toBe(true);
    expect(devices[1]?.simulate?.events[0]).toMatchObject({ shape: 'pass', at_s: 5 });
  });

  it('reports every schema problem as a `path: message` line', () => {
    const lines = problemsOf(`
name: Bad Name
title: ''
duration_s: -5
typo: 1
devices:
  - id: 'has space'
    profile: mightyohm-geiger
    simulate: { tick_ms: 1 }
`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^name: lower-case letters/),
        expect.stringMatching(/^title: /),
        expect.stringMatching(/^description: /),
        expect.stringMatching(/^duration_s: /),
        expect.stringMatching(/^\(root\): Unrecognized key: "typo"/),
        expect.stringMatching(/^devices\.0\.id: use letters/),
        expect.stringMatching(/^devices\.0\.simulate\.tick_ms: /),
      ]),
    );
    expect(lines.every((l) => /^[^:]+: .+/.test(l))).toBe(true);
  });

  it('checks profiles, control calls and their arguments, times and cable order', () => {
    const lines = problemsOf(
      `
name: drill
title: Drill
description: d
duration_s: 30
devices:
  - id: scanner
    profile: xray-parcel-scanner
    simulate: {}
    actions:
      - { at_s: 5, call: openDoor, args: [9] }
      - { at_s: 6, call: explode }
      - { at_s: 99, call: injectFault, args: [gremlins] }
  - id: scanner
    profile: mightyohm-geiger
    simulate: { events: [{ at_s: 40, duration_s: 1, peak_usvh: 1 }] }
    actions: [{ at_s: 1, call: openDoor, args: [1] }]
    cable_pull: [{ at_s: 5, action: replug }, { at_s: 3, action: unplug }]
  - id: ghost
    profile: no-such-profile
    simulate: {}
`,
      'other-name',
    );
    expect(lines).toEqual([
      "name: must match the file name 'other-name'",
      'devices.0.actions.0.args.0: Too big: expected number to be <=4',
      expect.stringMatching(/^devices\.0\.actions\.1\.call: unknown control 'explode' \(known: turnKey, openDoor/),
      'devices.0.actions.2.at_s: 99 s is after the scenario ends (30 s)',
      expect.stringMatching(/^devices\.0\.actions\.2\.args\.0: Invalid option/),
      "devices.1.id: duplicate device id 'scanner'",
      'devices.1.simulate.events.0.at_s: 40 s is after the scenario ends (30 s)',
      "devices.1.actions.0.call: profile 'mightyohm-geiger' has no control panel; use simulate.events or cable_pull",
      "devices.1.cable_pull.0.action: 'replug' but the cable is in already",
      'devices.1.cable_pull.1.at_s: cable pulls must be in time order',
      expect.stringMatching(/^devices\.2\.profile: unknown profile 'no-such-profile'/),
    ]);
  });

  it('checks replayed readings (scenario record) with the reading contract, and refuses physics on a replay device', () => {
    const replay = (points: string, extra = '') => `
name: replayed
title: Replayed
description: A recorded window.
duration_s: 10
devices:
  - id: device-1
    profile: mightyohm-geiger
    replay:
${points}${extra}
`;
    expect(problemsOf(replay('      - { t_s: 1, values: { cpm: 20, dose_rate: 0.11 } }'))).toEqual([]);
    expect(problemsOf(replay('      - { t_s: 2, values: { cpm: 20, door: true } }'))).toEqual([
      "devices.0.replay.0.values: channel 'door' is not declared by mightyohm-geiger (RS_ERR_CHANNEL_UNKNOWN)",
    ]);
    expect(problemsOf(replay('      - { t_s: 11, values: { cpm: 20 } }'))).toEqual([
      'devices.0.replay.0.t_s: 11 s is after the scenario ends (10 s)',
    ]);
    expect(problemsOf(replay('      - { t_s: 1, values: {} }'))).toEqual([
      'devices.0.replay.0.values: a reading carries at least one value',
    ]);
    expect(problemsOf(replay('      - { t_s: 1, values: { cpm: 20 } }', '\n    cable_pull: [{ at_s: 5, action: unplug }]'))).toEqual([
      'devices.0.replay: a replay device takes no simulate events, actions or cable pulls',
    ]);
  });

  it('reads a replay written as JSON lines (what scenario record writes), naming a line that is not JSON', () => {
    const text = toScenarioYaml({
      name: 'lines',
      title: 'Lines',
      description: 'A recorded window.',
      duration_s: 10,
      devices: [
        {
          id: 'device-1',
          profile: 'mightyohm-geiger',
          replay: [
            { t_s: 0.5, values: { cpm: 20, mode: 'SLOW' }, quality: 'good' },
            { t_s: 2, values: { cpm: 21 }, quality: 'suspect' },
          ],
        },
      ],
    });
    expect(text).toContain('replay: |');
    expect(parseScenario(text).devices[0]?.replay).toEqual([
      { t_s: 0.5, values: { cpm: 20, mode: 'SLOW' }, quality: 'good' },
      { t_s: 2, values: { cpm: 21 }, quality: 'suspect' },
    ]);
    const broken = problemsOf(text.replace('"cpm":21}', '"cpm":21,}'));
    expect(broken).toHaveLength(1);
    expect(broken[0]).toMatch(/^devices\.0\.replay: line 2 is not JSON/);
  });

  it('lists a folder once per file version: an unchanged file is not parsed again, a changed one is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rs-scn-list-'));
    const file = join(dir, 'door-drill.yaml');
    writeFileSync(file, VALID);
    const first = listScenarios(dir);
    expect(first[0]?.scenario?.title).toBe('Door drill');
    expect(listScenarios(dir)[0]).toBe(first[0]);
    writeFileSync(file, VALID.replace('title: Door drill', 'title: Door drill, second edition'));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(listScenarios(dir)[0]?.scenario?.title).toBe('Door drill, second edition');
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problemsOf('name: a\n  title: [unclosed\n')[0]).toMatch(/^line \d+: /);
  });

  it('every shipped scenario validates, and there are at least the four incidents', () => {
    const entries = listScenarios(SCENARIO_DIR);
    expect(entries.length).toBe(readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.yaml')).length);
    for (const e of entries) expect(e.problems, e.file).toBeUndefined();
    expect(entries.map((e) => e.scenario?.name)).toEqual(
      expect.arrayContaining(['weak-cs137-parcel', 'medical-isotope-parcel', 'xray-interlock-beam-on', 'geiger-cable-pulled']),
    );
  });
});
