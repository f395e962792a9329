import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openPrivateDatabase } from '../../core/private-database.ts';
import { AccountError } from './account-error.ts';
import type { Role } from './roles.ts';

/** A user as the API shows it (never the hash). */
export interface User {
  name: string;
  role: Role;
  created_at: number;
  /** A disabled user cannot log in and has no sessions; the row stays so the audit log keeps its meaning. */
  disabled: boolean;
  /** Set for one-time passwords (first-admin bootstrap): every action but a password change is refused. */
  must_change_password: boolean;
}

/**
 * What a presented session token is worth. `ended` says why there is no user: `idle` (no action
 * for longer than the idle timeout) and `expired` (past the absolute lifetime) answer
 * RS_ERR_SESSION_EXPIRED; `disabled` RS_ERR_USER_DISABLED; `unknown` (never issued, logged out,
 * ended by a password change or deletion) a plain RS_ERR_AUTH_REQUIRED.
 */
export type SessionCheck = { user: User; ended?: undefined } | { user?: undefined; ended: 'idle' | 'expired' | 'disabled' | 'unknown' };

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
  /** The user holding a live session for this token, or undefined (unknown, expired, idle, disabled, user gone). */
  sessionUser(token: string, now: number): User | undefined;
  /**
   * Checks a session against its absolute expiry and, when `idleMs` is given, its last activity. `touch` records `now` as activity: the guard sets it only for
   * routes that need a login, so the console's anonymous polling never keeps a session alive.
   */
  checkSession(token: string, now: number, opts?: { idleMs?: number; touch?: boolean }): SessionCheck;
  deleteSession(token: string): void;
  /** Disables or re-enables a user; disabling ends all its sessions. @throws AccountError (404 unknown, 409 last enabled admin). */
  setUserDisabled(name: string, disabled: boolean): User;
  /** Deletes a user and its sessions (audit entries stay). @throws AccountError (404 unknown, 409 last enabled admin). */
  deleteUser(name: string): void;
  /**
   * Sets a new password hash; ends every session of the user except `keepToken` (the caller's
   * own, for a self-service change). `mustChange` marks it one-time. @throws AccountError 404.
   */
  setPassword(name: string, passwordHash: string, opts?: { keepToken?: string; mustChange?: boolean; now?: number }): void;
  /** Live sessions per user (for listings). */
  sessionCounts(now: number): Map<string, number>;
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
  // 0600 in a 0700 directory, tightened if found looser: scrypt hashes and the audit log are private.
  const db = openPrivateDatabase(path);
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
  // Files from before accounts could be disabled or idle out get the columns with safe defaults.
  const columns = (table: string) => new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
  const userColumns = columns('users');
  if (!userColumns.has('disabled')) db.exec('ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0');
  if (!userColumns.has('must_change_password')) db.exec('ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0');
  if (!columns('sessions').has('last_seen')) db.exec('ALTER TABLE sessions ADD COLUMN last_seen INTEGER');
  const insertUser = db.prepare('INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)');
  const replaceUser = db.prepare(
    `INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT(name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash, must_change_password = 0`,
  );
  const USER_COLS = 'name, role, created_at, disabled, must_change_password';
  const selectUser = db.prepare(`SELECT ${USER_COLS}, password_hash FROM users WHERE name = ?`);
  const selectUsers = db.prepare(`SELECT ${USER_COLS} FROM users ORDER BY name`);
  const insertSession = db.prepare('INSERT INTO sessions (token_sha256, user, created_at, expires_at, last_seen) VALUES (?, ?, ?, ?, ?)');
  const selectSession = db.prepare(
    `SELECT s.expires_at, COALESCE(s.last_seen, s.created_at) AS last_seen, ${USER_COLS.replace(/(\w+)/g, 'u.$1')}
     FROM sessions s JOIN users u ON u.name = s.user WHERE s.token_sha256 = ?`,
  );
  const touchSession = db.prepare('UPDATE sessions SET last_seen = ? WHERE token_sha256 = ?');
  const deleteSession = db.prepare('DELETE FROM sessions WHERE token_sha256 = ?');
  const enabledAdmins = db.prepare("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0").pluck();
  const updateDisabled = db.prepare('UPDATE users SET disabled = ? WHERE name = ?');
  const deleteUserRow = db.prepare('DELETE FROM users WHERE name = ?');
  const updatePassword = db.prepare('UPDATE users SET password_hash = ?, must_change_password = ? WHERE name = ?');
  const dropOtherSessions = db.prepare('DELETE FROM sessions WHERE user = ? AND token_sha256 != ?');
  const liveSessions = db.prepare('SELECT user, COUNT(*) AS n FROM sessions WHERE expires_at > ? GROUP BY user');
  const purgeSessions = db.prepare('DELETE FROM sessions WHERE expires_at <= ?');
  const dropUserSessions = db.prepare('DELETE FROM sessions WHERE user = ?');
  const insertAudit = db.prepare(
    'INSERT INTO audit (ts, user, role, action, target, ok, detail, ip) VALUES (@ts, @user, @role, @action, @target, @ok, @detail, @ip)',
  );

  type AuditRow = Omit<AuditEntry, 'ok' | 'detail'> & { ok: number; detail: string };
  const toEntry = (r: AuditRow): AuditEntry => ({ ...r, ok: r.ok === 1, detail: JSON.parse(r.detail) });

  type UserRow = Omit<User, 'disabled' | 'must_change_password'> & { disabled: number; must_change_password: number };
  const toUser = (r: UserRow): User => ({
    name: r.name,
    role: r.role,
    created_at: r.created_at,
    disabled: r.disabled === 1,
    must_change_password: r.must_change_password === 1,
  });
  const existing = (name: string): UserRow & { password_hash: string } => {
    const row = selectUser.get(name) as (UserRow & { password_hash: string }) | undefined;
    if (!row) throw new AccountError('RS_ERR_NOT_FOUND', 404, `no user '${name}'`);
    return row;
  };
  // Checked inside the same transaction as the change, so two admins removing each other at the
  // same moment cannot both succeed and leave the station without one.
  const keepLastAdmin = (row: UserRow, what: string) => {
    if (row.role === 'admin' && row.disabled === 0 && (enabledAdmins.get() as number) <= 1)
      throw new AccountError('RS_ERR_CONFLICT', 409, `'${row.name}' is the last enabled admin: ${what} would leave nobody to manage users`);
  };

  const putUser = db.transaction((name: string, role: Role, hash: string, replace: boolean, now: number) => {
    const row = selectUser.get(name) as UserRow | undefined;
    if (!replace && row) throw new Error(`user '${name}' already exists`);
    if (row && role !== 'admin') keepLastAdmin(row, `making it ${role}`);
    (replace ? replaceUser : insertUser).run(name, role, hash, now);
    // A new password or role must not leave old sessions running with the old rights.
    if (replace) dropUserSessions.run(name);
  });

  const setUserDisabled = db.transaction((name: string, disabled: boolean) => {
    const row = existing(name);
    if (disabled) keepLastAdmin(row, 'disabling it');
    updateDisabled.run(disabled ? 1 : 0, name);
    if (disabled) dropUserSessions.run(name);
  });
  const deleteUser = db.transaction((name: string) => {
    keepLastAdmin(existing(name), 'deleting it');
    dropUserSessions.run(name);
    deleteUserRow.run(name);
  });
  const setPassword = db.transaction((name: string, hash: string, keepToken: string | undefined, mustChange: boolean) => {
    existing(name);
    updatePassword.run(hash, mustChange ? 1 : 0, name);
    // A new password ends every other session: whoever knew the old one is out.
    if (keepToken) dropOtherSessions.run(name, digest(keepToken));
    else dropUserSessions.run(name);
  });

  const checkSession = (token: string, now: number, opts: { idleMs?: number; touch?: boolean } = {}): SessionCheck => {
    const key = digest(token);
    const row = selectSession.get(key) as (UserRow & { expires_at: number; last_seen: number }) | undefined;
    if (!row) return { ended: 'unknown' };
    if (row.expires_at <= now) return { ended: 'expired' };
    if (row.disabled === 1) return { ended: 'disabled' };
    // An idle session is not deleted: every later use keeps answering "expired" (not "log in
    // first"), and the row goes with the purge at its absolute expiry.
    if (opts.idleMs !== undefined && now - row.last_seen > opts.idleMs) return { ended: 'idle' };
    if (opts.touch) touchSession.run(now, key);
    return { user: toUser(row) };
  };

  // IMMEDIATE: the write lock is taken before the admin count is read, so a CLI process and the
  // server changing admins at once serialise instead of both passing the check (or failing BUSY).
  return {
    putUser(name, role, passwordHash, opts = {}) {
      putUser.immediate(name, role, passwordHash, opts.replace ?? false, opts.now ?? Date.now());
      return toUser(selectUser.get(name) as UserRow);
    },
    getUser(name) {
      const row = selectUser.get(name) as (UserRow & { password_hash: string }) | undefined;
      return row ? { ...toUser(row), password_hash: row.password_hash } : undefined;
    },
    listUsers: () => (selectUsers.all() as UserRow[]).map(toUser),
    createSession(user, expiresAt, now) {
      purgeSessions.run(now);
      // Defence in depth: the login route refuses disabled users before it gets here.
      if (existing(user).disabled === 1) throw new AccountError('RS_ERR_USER_DISABLED', 403, `user '${user}' is disabled`);
      const token = randomBytes(32).toString('base64url');
      insertSession.run(digest(token), user, now, expiresAt, now);
      return token;
    },
    sessionUser: (token, now) => checkSession(token, now).user,
    checkSession,
    deleteSession: (token) => void deleteSession.run(digest(token)),
    setUserDisabled(name, disabled) {
      setUserDisabled.immediate(name, disabled);
      return toUser(selectUser.get(name) as UserRow);
    },
    deleteUser: (name) => deleteUser.immediate(name),
    setPassword: (name, hash, opts = {}) => setPassword(name, hash, opts.keepToken, opts.mustChange ?? false),
    sessionCounts(now) {
      return new Map((liveSessions.all(now) as { user: string; n: number }[]).map((r) => [r.user, r.n]));
    },
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
