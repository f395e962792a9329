import { assertPasswordAcceptable, type PasswordPolicy } from './password-policy.ts';
import { generatePassword, hashPassword } from './passwords.ts';
import { type Role, RoleSchema } from './roles.ts';
import type { AuthStore, User } from './store.ts';

/** What `addUser` did; `password` is set only when it generated one (show it once, never store it). */
export interface AddedUser {
  user: User;
  generatedPassword?: string;
}

/**
 * Creates a user (or, with `replace`, sets a new password and role and ends its sessions).
 * Without a password it generates a random one and returns it. Names are 1–64 characters of
 * letters, digits, `.`, `_`, `-`; a chosen password must pass the password policy
 * (password-policy.ts: AccountError RS_ERR_PASSWORD_WEAK). `mustChange` makes the password
 * one-time: the user must change it before doing anything else (first-admin bootstrap).
 * Throws on bad input or when the user exists and `replace` is not set.
 */
export async function addUser(
  store: AuthStore,
  opts: {
    name: string;
    role: Role;
    password?: string;
    replace?: boolean;
    now?: number;
    audit?: boolean;
    policy?: PasswordPolicy;
    mustChange?: boolean;
  },
): Promise<AddedUser> {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(opts.name)) throw new Error(`user name '${opts.name}' must be 1–64 of A-Z a-z 0-9 . _ -`);
  const role = RoleSchema.parse(opts.role);
  if (opts.password !== undefined)
    assertPasswordAcceptable(opts.password, { userName: opts.name, ...(opts.policy ? { policy: opts.policy } : {}) });
  if (!opts.replace && store.getUser(opts.name))
    throw new Error(`user '${opts.name}' already exists (use --replace to set a new password)`);
  const password = opts.password ?? generatePassword();
  const hash = await hashPassword(password);
  let user = store.putUser(opts.name, role, hash, {
    replace: opts.replace ?? false,
    ...(opts.now !== undefined ? { now: opts.now } : {}),
  });
  if (opts.mustChange) {
    store.setPassword(opts.name, hash, { mustChange: true });
    user = { ...user, must_change_password: true };
  }
  // The HTTP route audits with the acting admin itself; the CLI and the station have no session.
  if (opts.audit !== false)
    store.appendAudit({
      ts: opts.now ?? Date.now(),
      user: null,
      role: null,
      action: opts.replace ? 'user.replace' : 'user.add',
      target: opts.name,
      ok: true,
      detail: { role, via: 'local' },
      ip: null,
    });
  return opts.password === undefined ? { user, generatedPassword: password } : { user };
}

/**
 * The demo station's accounts: one per role, named after the role. A missing one is created
 * with a random password, returned so the caller prints it once; an existing one is left alone
 * (its password was printed when it was made; `radscreen user add <name> --role <role> --replace`
 * sets a new one). There are no default passwords.
 */
export async function ensureDemoUsers(store: AuthStore): Promise<{ name: string; role: Role; password?: string }[]> {
  const out: { name: string; role: Role; password?: string }[] = [];
  for (const role of RoleSchema.options) {
    if (store.getUser(role)) {
      out.push({ name: role, role });
      continue;
    }
    const added = await addUser(store, { name: role, role });
    out.push({ name: role, role, ...(added.generatedPassword ? { password: added.generatedPassword } : {}) });
  }
  return out;
}

/**
 * First-user bootstrap for `radscreen server`: on a store without any user, creates `admin`
 * with a generated one-time password that must be changed at first login (every other action
 * is refused until then). Returns the password to write to the 0600 file, or undefined when
 * users exist already (nothing is changed then).
 */
export async function ensureFirstAdmin(store: AuthStore, opts: { name?: string; now?: number } = {}): Promise<AddedUser | undefined> {
  if (store.listUsers().length > 0) return undefined;
  return addUser(store, {
    name: opts.name ?? 'admin',
    role: 'admin',
    mustChange: true,
    ...(opts.now !== undefined ? { now: opts.now } : {}),
  });
}
