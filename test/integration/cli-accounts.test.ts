import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { alarmStorePath, openAlarmStore } from '../../src/alarms/store.ts';
import { addUser } from '../../src/server/auth/provision.ts';
import { authStorePath, openAuthStore } from '../../src/server/auth/store.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Accounts and data-file protection through the real CLI processes: `radscreen users`,
 * `radscreen user add`, the first-admin bootstrap of `radscreen server`, the one-time password
 * file of `radscreen station`, and the modes of the data directory and its files.
 */
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGINT');
      await new Promise((r) => c.once('exit', r));
    }
  }
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'rs-cli-acc-'));
  dirs.push(d);
  return d;
}
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
const cli = (args: string[], input?: string) =>
  spawnSync(process.execPath, ['bin/radscreen.js', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    ...(input !== undefined ? { input } : {}),
  });

/** Starts a long-running command and collects its output. */
function start(args: string[]) {
  const child = spawn(process.execPath, ['bin/radscreen.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (b: Buffer) => (out.stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out.stderr += b.toString()));
  const stop = async () => {
    child.kill('SIGINT');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
  };
  return { child, out, stop };
}

describe('radscreen users', () => {
  it('lists, disables, enables and deletes; keeps the last enabled admin; audits each change as cli', async () => {
    const dir = tempDir();
    const config = join(dir, 'station.yaml');
    writeFileSync(config, `station: { id: s1 }\ndata_dir: ${join(dir, 'data')}\n`);
    const store = openAuthStore(authStorePath(join(dir, 'data')));
    await addUser(store, { name: 'boss', role: 'admin' });
    await addUser(store, { name: 'op', role: 'operator' });
    const session = store.createSession('op', Date.now() + 3_600_000, Date.now());
    store.close();

    const list = cli(['users', 'list', '--json', '-c', config]);
    expect(list.status).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ name: 'boss', role: 'admin', disabled: false, sessions: 0 }),
      expect.objectContaining({ name: 'op', role: 'operator', disabled: false, sessions: 1 }),
    ]);

    const disable = cli(['users', 'disable', 'op', '-c', config]);
    expect(disable.status, disable.stderr).toBe(0);
    expect(cli(['users', 'list', '-c', config]).stdout).toMatch(/op\s+operator\s+disabled\s+0 session/);

    const lastAdmin = cli(['users', 'disable', 'boss', '-c', config]);
    expect(lastAdmin.status).toBe(1);
    expect(lastAdmin.stderr).toMatch(/last enabled admin.*\[RS_ERR_CONFLICT\]/);
    expect(cli(['users', 'delete', 'boss', '-c', config]).status).toBe(1);
    const unknown = cli(['users', 'delete', 'nobody', '-c', config]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/RS_ERR_NOT_FOUND/);

    expect(cli(['users', 'enable', 'op', '-c', config]).status).toBe(0);
    expect(cli(['users', 'delete', 'op', '-c', config]).status).toBe(0);

    const after = openAuthStore(authStorePath(join(dir, 'data')));
    expect(after.getUser('op')).toBeUndefined();
    expect(after.sessionUser(session, Date.now())).toBeUndefined();
    const audit = after.listAudit({ limit: 100 }).filter((e) => e.detail.via === 'cli');
    expect(audit.map((e) => `${e.action} ${e.target} ${e.ok}`).sort()).toEqual(
      [
        'user.disable op true',
        'user.disable boss false',
        'user.delete boss false',
        'user.delete nobody false',
        'user.enable op true',
        'user.delete op true',
      ].sort(),
    );
    expect(audit.every((e) => typeof e.detail.os_user === 'string')).toBe(true);
    after.close();
  });

  it('`user add --password-stdin` refuses common passwords and the product name', () => {
    const dir = tempDir();
    const config = join(dir, 'station.yaml');
    writeFileSync(config, `station: { id: s1 }\ndata_dir: ${join(dir, 'data')}\naccounts: { password_min_length: 8 }\n`);
    for (const weak of ['password', 'radscreen', 'Password1!']) {
      const r = cli(['user', 'add', 'op', '--role', 'operator', '--password-stdin', '-c', config], `${weak}\n`);
      expect(r.status, weak).toBe(2);
      expect(r.stderr).toMatch(/common|radscreen/);
    }
    expect(cli(['user', 'add', 'op', '--role', 'operator', '--password-stdin', '-c', config], 'tulip-Anvil\n').status).toBe(0);
  });
});

describe('first start of radscreen server', () => {
  it('creates admin with a one-time password in a 0600 file, prints only the path, tightens loose data files and logs it', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    // An older version left the directory and a database world-readable.
    mkdirSync(dataDir, { recursive: true });
    chmodSync(dataDir, 0o755);
    openAlarmStore(alarmStorePath(dataDir)).close();
    chmodSync(alarmStorePath(dataDir), 0o644);
    const config = join(dir, 'server.yaml');
    writeFileSync(
      config,
      `station: { id: s1 }\ndata_dir: ${dataDir}\nmqtt: { url: '${inject('services').mqttUrl}' }\nserver: { port: 0 }\n`,
    );

    const server = start(['server', '-c', config]);
    await waitFor(() => /written to/.test(server.out.stderr) && /console: http/.test(server.out.stderr), {
      timeoutMs: 20_000,
      describe: () => server.out,
    });
    const url = /console: (http:\S+)/.exec(server.out.stderr)?.[1] as string;
    const line = server.out.stderr.split('\n').find((l) => l.includes('written to')) as string;
    const file = join(dataDir, 'one-time-passwords.txt');
    expect(line).toContain(file);
    expect(mode(file)).toBe('600');
    const password = /^admin\s+role admin\s+password (\S+)/m.exec(readFileSync(file, 'utf8'))?.[1] as string;
    expect(password).toMatch(/^.{24}$/);
    // The password is in the file only: not on stderr, not in the JSON log on stdout.
    expect(server.out.stderr).not.toContain(password);
    expect(server.out.stdout).not.toContain(password);

    expect(mode(dataDir)).toBe('700');
    for (const f of ['users.sqlite', 'alarms.sqlite', 'calibrations.sqlite']) expect(mode(join(dataDir, f)), f).toBe('600');
    const logged = server.out.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; path?: string; from?: string });
    expect(logged.filter((l) => /tightened permissions/.test(l.msg)).map((l) => [l.path, l.from])).toEqual(
      expect.arrayContaining([
        [dataDir, '0755'],
        [alarmStorePath(dataDir), '0644'],
      ]),
    );

    const login = await fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password, bearer: true }),
    });
    const body = (await login.json()) as { user: { must_change_password: boolean }; token: string };
    expect(body.user.must_change_password).toBe(true);
    const auth = { authorization: `Bearer ${body.token}`, 'content-type': 'application/json' };
    const blocked = await fetch(`${url}/api/users`, { headers: auth });
    expect(blocked.status).toBe(403);
    expect(((await blocked.json()) as { code: string }).code).toBe('RS_ERR_PASSWORD_CHANGE_REQUIRED');
    const changed = await fetch(`${url}/api/me/password`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ current_password: password, new_password: 'the-admins-own-phrase' }),
    });
    expect(changed.status).toBe(200);
    expect((await fetch(`${url}/api/users`, { headers: auth })).status).toBe(200);
    await server.stop();

    // A restart finds a user: no second admin, no new password.
    const again = start(['server', '-c', config]);
    await waitFor(() => /console: http/.test(again.out.stderr), { timeoutMs: 20_000, describe: () => again.out });
    await again.stop();
    expect(again.out.stderr).not.toMatch(/written to/);
    expect(readFileSync(file, 'utf8').match(/^admin /gm)).toHaveLength(1);
  });
});

describe('radscreen station', () => {
  it('writes the demo accounts passwords to the 0600 file, never to stdout or stderr', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const config = join(dir, 'station.yaml');
    writeFileSync(
      config,
      `station: { id: s1 }\ndata_dir: ${dataDir}\nmqtt: { embedded: { port: 0 } }\ninflux: { managed: never }\nserver: { port: 0 }\n`,
    );
    const station = start(['station', '-c', config]);
    await waitFor(() => /written to/.test(station.out.stderr), { timeoutMs: 20_000, describe: () => station.out });
    await station.stop();
    const file = join(dataDir, 'one-time-passwords.txt');
    expect(mode(file)).toBe('600');
    const passwords = [...readFileSync(file, 'utf8').matchAll(/password (\S{24})/g)].map((m) => m[1] as string);
    expect(passwords).toHaveLength(4);
    for (const p of passwords) {
      expect(station.out.stdout).not.toContain(p);
      expect(station.out.stderr).not.toContain(p);
    }
    expect(station.out.stderr.split('\n').filter((l) => l.includes(file))).toHaveLength(1);
    expect(mode(dataDir)).toBe('700');
    expect(mode(join(dataDir, 'users.sqlite'))).toBe('600');
  });
});
