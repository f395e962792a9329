import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { shouldWrite } from '../support/screenshot-compare.ts';

/** A checkout without its screenshot references must fail under CI, not pass against itself. */
describe('screenshot reference mode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-refmode-'));
  const missing = join(dir, 'missing.png');
  const present = join(dir, 'present.png');
  writeFileSync(present, 'png');

  afterEach(() => vi.unstubAllEnvs());

  it('fails under CI=true when a reference is missing', () => {
    vi.stubEnv('CI', 'true');
    vi.stubEnv('RADSCREEN_UPDATE_REFERENCES', '');
    expect(() => shouldWrite(missing)).toThrow(/reference missing under CI=true/);
  });

  it('refuses to rewrite references under CI=true', () => {
    vi.stubEnv('CI', 'true');
    vi.stubEnv('RADSCREEN_UPDATE_REFERENCES', '1');
    expect(() => shouldWrite(present)).toThrow(/RADSCREEN_UPDATE_REFERENCES=1 is refused/);
  });

  it('compares against a present reference under CI', () => {
    vi.stubEnv('CI', 'true');
    vi.stubEnv('RADSCREEN_UPDATE_REFERENCES', '');
    expect(shouldWrite(present)).toBe(false);
  });

  it('writes a missing reference on a development machine, and rewrites on request', () => {
    vi.stubEnv('CI', '');
    vi.stubEnv('RADSCREEN_UPDATE_REFERENCES', '');
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(shouldWrite(missing)).toBe(true);
    expect(shouldWrite(present)).toBe(false);
    vi.stubEnv('RADSCREEN_UPDATE_REFERENCES', '1');
    expect(shouldWrite(present)).toBe(true);
  });
});
