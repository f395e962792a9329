import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runUserAdd } from '../../src/server/auth/cli.ts';
import { generatePassword, hashPassword, verifyPassword } from '../../src/server/auth/passwords.ts';
import { addUser, ensureDemoUsers } from '../../src/server/auth/provision.ts';
import { PERMISSIONS, RoleSchema, roleAllows } from '../../src/server/auth/roles.ts';
import { authStorePath, openAuthStore } from '../../src/server/auth/store.ts';

// Cheap parameters keep the unit tests fast; the default (N = 2^15) is exercised once below.
const FAST = { N: 1024, r: 8, p: 1 };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('password hashing (scrypt)', () => {
  it('stores parameters and salt with the hash and verifies only the right password', async () => {
    const h = await hashPassword('correct horse', FAST);
    expect(h).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword('correct horse', h)).toBe(true);
    expect(await verifyPassword('correct hors', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
  });

  it('salts: the same password hashes differently each time', async () => {
    expect(await hashPassword('same', FAST)).not.toBe(await hashPassword('same', FAST));
  });

  it('uses the default cost when none is given, and old parameters keep verifying', async () => {
    const h = await hashPassword('pw-default');
    expect(h.startsWith('scrypt$32768$8$1$')).toBe(true);
    expect(await verifyPassword('pw-default', h)).toBe(true);
  });

  it('treats malformed or foreign hashes as a mismatch, never a crash', async () => {
    for (const bad of ['', 'plain', 'scrypt$x$8$1$AA$BB', 'bcrypt$2b$10$abc', 'scrypt$1024$8$1$AAAA$AAAA'])
      expect(await verifyPassword('x', bad)).toBe(false);
  });

  it('generates long random passwords', () => {
    const a = generatePassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(generatePassword()).not.toBe(a);
  });
});

describe('roles', () => {
  it('gives each action to the intended roles only', () => {
    expect(roleAllows('operator', 'alarm.operate')).toBe(true);
    expect(roleAllows('admin', 'alarm.operate')).toBe(false);
    expect(roleAllows('technician', 'device.maintain')).toBe(true);
    expect(roleAllows('operator', 'device.maintain')).toBe(false);
    expect(roleAllows('trainer', 'training.run')).toBe(true);
    expect(roleAllows('admin', 'users.manage')).toBe(true);
    expect(roleAllows('operator', 'users.manage')).toBe(false);
    expect(roleAllows('operator', 'audit.read') && roleAllows('admin', 'audit.read')).toBe(true);
    expect(roleAllows('trainer', 'audit.read')).toBe(false);
    // Every role holds at least one permission, so none is dead weight.
    for (const role of RoleSchema.options)
      expect(Object.values(PERMISSIONS).some((rs) => (rs as readonly string[]).includes(role))).toBe(true);
  });
});

describe('auth store', () => {
  it('keeps users, never exposes hashes in listings, and refuses duplicates unless replacing', async () => {
    const store = openAuthStore();
    const added = await addUser(store, { name: 'alice', role: 'operator' });
    expect(added.generatedPassword).toMatch(/^.{24}$/);
    expect(store.listUsers()).toEqual([
      { name: 'alice', role: 'operator', created_at: expect.any(Number), disabled: false, must_change_password: false },
    ]);
    expect(await verifyPassword(added.generatedPassword as string, store.getUser('alice')?.password_hash as string)).toBe(true);
    await expect(addUser(store, { name: 'alice', role: 'admin', password: 'long-enough-pass' })).rejects.toThrow(/already exists/);
    await expect(addUser(store, { name: 'bad name', role: 'admin' })).rejects.toThrow(/user name/);
    await expect(addUser(store, { name: 'bob', role: 'admin', password: 'short' })).rejects.toThrow(/12 characters/);
    store.close();
  });

  it('sessions: token works until expiry, logout ends it, replacing a user ends its sessions', async () => {
    const store = openAuthStore();
    await addUser(store, { name: 'op', role: 'operator', password: 'first-pass-phrase' });
    const token = store.createSession('op', 2000, 1000);
    expect(store.sessionUser(token, 1500)?.name).toBe('op');
    expect(store.sessionUser(token, 2000)).toBeUndefined();
    expect(store.sessionUser('not-a-token', 1500)).toBeUndefined();
    const t2 = store.createSession('op', 10_000, 1000);
    store.deleteSession(t2);
    expect(store.sessionUser(t2, 1500)).toBeUndefined();
    const t3 = store.createSession('op', 10_000, 1000);
    await addUser(store, { name: 'op', role: 'admin', password: 'second-pass-phrase', replace: true });
    expect(store.sessionUser(t3, 1500)).toBeUndefined();
    expect(store.getUser('op')?.role).toBe('admin');
    store.close();
  });

  it('the audit log is append-only: UPDATE and DELETE are refused by the database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rs-auth-'));
    dirs.push(dir);
    const store = openAuthStore(authStorePath(dir));
    store.appendAudit({
      ts: 1,
      user: 'op',
      role: 'operator',
      action: 'alarm.acknowledge',
      target: 'a1',
      ok: true,
      detail: { comment: 'x' },
      ip: null,
    });
    store.close();
    // A second connection straight to the file, as a tamperer would use.
    return import('better-sqlite3').then(({ default: Database }) => {
      const db = new Database(authStorePath(dir));
      expect(() => db.prepare("UPDATE audit SET user = 'mallory'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
      db.close();
      const again = openAuthStore(authStorePath(dir));
      expect(again.listAudit()).toMatchObject([
        { user: 'op', action: 'alarm.acknowledge', target: 'a1', ok: true, detail: { comment: 'x' } },
      ]);
      again.close();
    });
  });

  it('filters the audit log by target and action, newest first', () => {
    const store = openAuthStore();
    const base = { user: 'op', role: 'operator' as const, ok: true, detail: {}, ip: null };
    store.appendAudit({ ...base, ts: 1, action: 'alarm.acknowledge', target: 'a1' });
    store.appendAudit({ ...base, ts: 2, action: 'alarm.shelve', target: 'a1' });
    store.appendAudit({ ...base, ts: 3, action: 'alarm.acknowledge', target: 'a2' });
    expect(store.listAudit({ target: 'a1' }).map((e) => e.ts)).toEqual([2, 1]);
    expect(store.listAudit({ action: 'alarm.acknowledge' }).map((e) => e.target)).toEqual(['a2', 'a1']);
    expect(store.listAudit({ limit: 1 })).toHaveLength(1);
    store.close();
  });
});

describe('demo users and the CLI', () => {
  it('creates one user per role with a random password, and leaves them alone on the next start', async () => {
    const store = openAuthStore();
    const first = await ensureDemoUsers(store);
    expect(first.map((u) => u.role)).toEqual(['operator', 'technician', 'trainer', 'admin']);
    expect(new Set(first.map((u) => u.password)).size).toBe(4);
    for (const u of first) expect(await verifyPassword(u.password as string, store.getUser(u.name)?.password_hash as string)).toBe(true);
    const second = await ensureDemoUsers(store);
    expect(second.every((u) => u.password === undefined)).toBe(true);
    store.close();
  });

  it('`user add` generates and prints a password once, or takes one from stdin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rs-cli-'));
    dirs.push(dir);
    const out = await runUserAdd({ name: 'carol', role: 'technician', dataDir: dir });
    const generated = /password \(shown once\): (\S+)/.exec(out)?.[1];
    expect(generated).toBeDefined();
    const viaStdin = await runUserAdd({
      name: 'dave',
      role: 'admin',
      dataDir: dir,
      passwordStdin: true,
      stdin: Readable.from(['s3cret pass phrase\n']),
    });
    expect(viaStdin).not.toMatch(/password/);
    await expect(runUserAdd({ name: 'eve', role: 'root', dataDir: dir })).rejects.toThrow(/--role must be one of/);
    const store = openAuthStore(authStorePath(dir));
    expect(await verifyPassword(generated as string, store.getUser('carol')?.password_hash as string)).toBe(true);
    expect(await verifyPassword('s3cret pass phrase', store.getUser('dave')?.password_hash as string)).toBe(true);
    store.close();
  });
});
