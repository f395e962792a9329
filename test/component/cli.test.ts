import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = (args: string[]) =>
  spawnSync(process.execPath, ['bin/radscreen.js', ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NO_COLOR: '1' } });

describe('radscreen CLI', () => {
  it('exits 2 with path: message lines for a config with a wrong key and a wrong type', () => {
    const dir = mkdtempSync(join(tmpdir(), 'radscreen-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'station: { id: s1 }\nserver: { port: "eighty", colour: red }\ndevices: []\n');
    const r = cli(['station', '--config', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('RS_ERR_CONFIG_INVALID');
    expect(r.stderr).toMatch(/server\.port: .*expected number/);
    expect(r.stderr).toMatch(/server: Unrecognized key: "colour"/);
  });

  it('prints its version (package.json) with --version and -V', () => {
    const version = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
    for (const flag of ['--version', '-V']) {
      const r = cli([flag]);
      expect(r.stdout.trim()).toBe(version);
      expect(r.status).toBe(0);
    }
  });

  it('checks the demo config', () => {
    const r = cli(['config', 'check', 'examples/station.yaml']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/examples\/station\.yaml: ok \(station demo, \d+ device\(s\)\)/);
    expect(r.status).toBe(0);
  });

  it('prints the Reading JSON Schema from zod', () => {
    const r = cli(['schema', 'reading']);
    const schema = JSON.parse(r.stdout);
    expect(schema.required).toEqual(expect.arrayContaining(['station', 'device', 'ts', 'values', 'quality', 'source']));
    expect(cli(['schema', 'alarm']).status).toBe(2);
  });

  it('lists the catalogue as JSON with units on every channel', () => {
    const r = cli(['devices', '--json']);
    const rows = JSON.parse(r.stdout) as { id: string; channels: { unit: string }[] }[];
    expect(rows.map((d) => d.id)).toContain('mightyohm-geiger');
    expect(rows.every((d) => d.channels.every((c) => c.unit.length > 0))).toBe(true);
  });

  it('says in one line, without a stack, when the console port is taken, and exits 1', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const port = (holder.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'radscreen-cli-'));
    const file = join(dir, 'busy.yaml');
    writeFileSync(
      file,
      `station: { id: s1 }\ndata_dir: ${dir}\nmqtt: { embedded: { port: 0 } }\ninflux: { managed: never }\nserver: { port: ${port} }\n`,
    );
    try {
      const r = spawnSync(process.execPath, ['bin/radscreen.js', 'station', '--config', file], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`radscreen: .*EADDRINUSE.*port ${port} is in use`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      holder.close();
    }
  });

  it('rejects an unknown command with usage help and exit 2', () => {
    const r = cli(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });
});
