import { spawnSync } from 'node:child_process';
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
