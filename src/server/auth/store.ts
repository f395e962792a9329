import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { Role } from './roles.ts';

/** A user as the API shows it (never the hash). */
export interface User {
  name: string;
  role: Role;
  created_at: number;
}

/** One audit entry. `user` is null for anonymous attempts (refused logins, refused actions). */
export interface AuditEntry {
  seq: number;
  ts: number;
  user: string | null;
  role: Role | null;
  /** What was attempted, e.g. `login`, `alarm.acknowledge`, `user.add`. */
  action: string;
  /** What it was done to: an alarm id, a device id, a user name. */
  target: string | null;
  ok: boolean;
  /** Comment, duration, disposition, refusal reason… */
  detail: Record<string, unknown>;
  ip: string | null;
}

/**
 * Users, sessions and the audit log in one SQLite file (`<data_dir>/users.sqlite`).
 * The audit table is append-only: triggers abort any UPDATE or DELETE, and this module has
 * no statement that would issue one. Session tokens are stored as SHA-256 digests, so a copy
 * of the file does not let anyone log in.
 */
export interface AuthStore {
  /** Inserts a user, or replaces the password and role when `replace` is set; throws when it exists otherwise. */
  putUser(name: string, role: Role, passwordHash: string, opts?: { replace?: boolean; now?: number }): User;
  getUser(name: string): (User & { password_hash: string }) | undefined;
  listUsers(): User[];
  /** Creates a session; returns the bearer token (32 random bytes, base64url), shown only once. */
  createSession(user: string, expiresAt: number, now: number): string;
  /** The user holding a live session for this token, or undefined (unknown, expired, user gone). */
  sessionUser(token: string, now: number): User | undefined;
  deleteSession(token: string): void;
  appendAudit(entry: Omit<AuditEntry, 'seq'>): AuditEntry;
  /** Newest first. */
  listAudit(opts?: { limit?: number; target?: string; action?: string }): AuditEntry[];
  close(): void;
}

/** Where a server keeps users, sessions and the audit log. */
export function authStorePath(dataDir: string): string {
  return join(dataDir, 'users.sqlite');
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

/** Opens (creating) the auth store at `path`; `:memory:` for tests. */
export function openAuthStore(path = ':memory:'): AuthStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  if (path !== ':memory:') db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS users (
      name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS sessions (
      token_sha256 TEXT PRIMARY KEY, user TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS audit (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, user TEXT, role TEXT, action TEXT NOT NULL,
      target TEXT, ok INTEGER NOT NULL, detail TEXT NOT NULL, ip TEXT);
    CREATE INDEX IF NOT EXISTS audit_target ON audit (target, seq);
    CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
  `);
  const insertUser = db.prepare('INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)');
  const replaceUser = db.prepare(
    `INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT(name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash`,
  );
  const selectUser = db.prepare('SELECT name, role, password_hash, created_at FROM users WHERE name = ?');
  const selectUsers = db.prepare('SELECT name, role, created_at FROM users ORDER BY name');
  const insertSession = db.prepare('INSERT INTO sessions (token_sha256, user, created_at, expires_at) VALUES (?, ?, ?, ?)');
  const selectSession = db.prepare(
    'SELECT u.name, u.role, u.created_at FROM sessions s JOIN users u ON u.name = s.user WHERE s.token_sha256 = ? AND s.expires_at > ?',
  );
  const deleteSession = db.prepare('DELETE FROM sessions WHERE token_sha256 = ?');
  const purgeSessions = db.prepare('DELETE FROM sessions WHERE expires_at <= ?');
  const dropUserSessions = db.prepare('DELETE FROM sessions WHERE user = ?');
  const insertAudit = db.prepare(
    'INSERT INTO audit (ts, user, role, action, target, ok, detail, ip) VALUES (@ts, @user, @role, @action, @target, @ok, @detail, @ip)',
  );

  type AuditRow = Omit<AuditEntry, 'ok' | 'detail'> & { ok: number; detail: string };
  const toEntry = (r: AuditRow): AuditEntry => ({ ...r, ok: r.ok === 1, detail: JSON.parse(r.detail) });

  const putUser = db.transaction((name: string, role: Role, hash: string, replace: boolean, now: number) => {
    if (!replace && selectUser.get(name)) throw new Error(`user '${name}' already exists`);
    (replace ? replaceUser : insertUser).run(name, role, hash, now);
    // A new password or role must not leave old sessions running with the old rights.
    if (replace) dropUserSessions.run(name);
  });

  return {
    putUser(name, role, passwordHash, opts = {}) {
      putUser(name, role, passwordHash, opts.replace ?? false, opts.now ?? Date.now());
      const u = selectUser.get(name) as User;
      return { name: u.name, role: u.role, created_at: u.created_at };
    },
    getUser: (name) => selectUser.get(name) as (User & { password_hash: string }) | undefined,
    listUsers: () => selectUsers.all() as User[],
    createSession(user, expiresAt, now) {
      purgeSessions.run(now);
      const token = randomBytes(32).toString('base64url');
      insertSession.run(digest(token), user, now, expiresAt);
      return token;
    },
    sessionUser: (token, now) => selectSession.get(digest(token), now) as User | undefined,
    deleteSession: (token) => void deleteSession.run(digest(token)),
    appendAudit(entry) {
      const info = insertAudit.run({ ...entry, ok: entry.ok ? 1 : 0, detail: JSON.stringify(entry.detail) });
      return { ...entry, seq: Number(info.lastInsertRowid) };
    },
    listAudit({ limit = 200, target, action } = {}) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      for (const [col, v] of [
        ['target', target],
        ['action', action],
      ] as const) {
        if (v === undefined) continue;
        where.push(`${col} = ?`);
        args.push(v);
      }
      const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
      return (db.prepare(sql).all(...args, limit) as AuditRow[]).map(toEntry);
    },
    close() {
      if (db.open) db.close();
    },
  };
}
