import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { prettyDestination } from '../../src/cli/log-format.ts';

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/radscreen.js', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, NO_COLOR: '1', ...env },
  });

describe('the CLI tells the truth', () => {
  it('decode of a stored GMC history without --stored warns, suggests --stored, and fails under --strict', () => {
    const plain = cli(['decode', '-p', 'gq-gmc', 'devices/gq-gmc/fixtures/flight.bin']);
    expect(plain.status).toBe(0);
    expect(plain.stderr).toContain('accepted 0, rejected 0');
    expect(plain.stderr).toMatch(/warning: devices\/gq-gmc\/fixtures\/flight\.bin yielded no readings .*add --stored/);
    const strict = cli(['decode', '-p', 'gq-gmc', 'devices/gq-gmc/fixtures/flight.bin', '--strict']);
    expect(strict.status).toBe(1);
    const stored = cli(['decode', '-p', 'gq-gmc', 'devices/gq-gmc/fixtures/flight.bin', '--stored', '--strict']);
    expect(stored.stderr).not.toContain('warning');
    expect(stored.stdout.trim().split('\n').length).toBeGreaterThan(0);
  });

  it('decodes JSON profiles from JSON Lines, files over 64 KiB and a pretty-printed document without phantom rejects', () => {
    const fixture = JSON.parse(readFileSync('devices/safecast-json/fixtures/telemetry.json', 'utf8')) as {
      cases: { payload: string; reading: unknown; options?: unknown }[];
    };
    const payloads = fixture.cases.filter((c) => c.reading && !c.options).map((c) => c.payload);
    expect(payloads.length).toBeGreaterThan(2);
    const dir = mkdtempSync(join(tmpdir(), 'radscreen-jsonl-'));
    const files = {
      'lines.jsonl': { text: `${payloads.join('\n')}\n`, accepted: payloads.length },
      // Over 64 KiB: the file is read in 64 KiB chunks, which must not cut payloads apart.
      'big.jsonl': { text: Array(400).fill(payloads.join('\n')).join('\n'), accepted: payloads.length * 400 },
      'pretty.json': { text: `${JSON.stringify(JSON.parse(payloads[0] as string), null, 2)}\n`, accepted: 1 },
    };
    for (const [name, f] of Object.entries(files)) {
      writeFileSync(join(dir, name), f.text);
      const r = cli(['decode', '-p', 'safecast-json', join(dir, name), '--strict']);
      expect(r.stderr, name).toBe(`accepted ${f.accepted}, rejected 0\n`);
      expect(r.status, name).toBe(0);
    }
    expect(files['big.jsonl'].text.length).toBeGreaterThan(64 * 1024);
  });

  it('refuses an unknown RADSCREEN_LOG_LEVEL or RADSCREEN_LOG_FORMAT with the accepted values (exit 2)', () => {
    const level = cli(['station', '--config', 'examples/station.yaml'], { RADSCREEN_LOG_LEVEL: 'loud' });
    expect(level.status).toBe(2);
    expect(level.stderr).toContain("RADSCREEN_LOG_LEVEL 'loud' is not a log level");
    expect(level.stderr).toContain('trace, debug, info, warn, error, fatal, silent');
    const format = cli(['station', '--config', 'examples/station.yaml'], { RADSCREEN_LOG_FORMAT: 'xml' });
    expect(format.status).toBe(2);
    expect(format.stderr).toContain("RADSCREEN_LOG_FORMAT 'xml' is not a log format");
  });

  it('RADSCREEN_LOG_FORMAT=pretty writes one readable line per record, extra fields as key=value', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = pino({ level: 'debug', base: { pid: 1, version: '0.1.0' } }, prettyDestination(sink));
    log.debug({ code: 'RS_ERR_FRAME_CHECKSUM', hex: '0a0b0c' }, 'reject');
    log.warn('socat is not installed');
    expect(lines[0]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} DEBUG reject code=RS_ERR_FRAME_CHECKSUM hex=0a0b0c\n$/);
    expect(lines[1]).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} WARN {2}socat is not installed\n$/);
  });
});
