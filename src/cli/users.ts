import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { RadscreenError } from '../core/errors.ts';
import { writeOneTimePasswords } from '../server/auth/one-time-passwords.ts';
import { ensureFirstAdmin } from '../server/auth/provision.ts';
import { type AuthStore, authStorePath, openAuthStore } from '../server/auth/store.ts';
import { EXIT, loadConfigOrExit } from './common.ts';

/** Who ran a local command, for the audit log (the CLI has no session; file access is its authority). */
function localActor(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** Runs `fn` on the data directory's auth store and closes it; refusals exit 1 with their code. */
function withStore<T>(configPath: string, fn: (store: AuthStore) => T): T {
  const store = openAuthStore(authStorePath(loadConfigOrExit(configPath).data_dir));
  try {
    return fn(store);
  } catch (e) {
    if (e instanceof RadscreenError) {
      process.stderr.write(`radscreen: ${e.message} [${e.code}]\n`);
      process.exit(EXIT.failure);
    }
    throw e;
  } finally {
    store.close();
  }
}

function audit(store: AuthStore, action: string, target: string, ok: boolean, detail: Record<string, unknown> = {}) {
  store.appendAudit({
    ts: Date.now(),
    user: null,
    role: null,
    action,
    target,
    ok,
    detail: { via: 'cli', os_user: localActor(), ...detail },
    ip: null,
  });
}

/**
 * `radscreen users list|disable|enable|delete`: account administration on the data directory's
 * `users.sqlite`, for whoever may read it (the service account: the directory is 0700). Each
 * change is audited with `via: cli` and the OS user; a running server sees it at the next request
 * (a disabled or deleted user's sessions are gone from the same file).
 */
export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description('list, disable, enable or delete console users (<data_dir>/users.sqlite)');
  const configOption = ['-c, --config <file>', 'YAML config file', 'examples/station.yaml'] as const;

  users
    .command('list')
    .description('every user: role, state, one-time password pending, live sessions')
    .option(...configOption)
    .option('--json', 'print JSON for scripts')
    .action((opts: { config: string; json?: boolean }) =>
      withStore(opts.config, (store) => {
        const sessions = store.sessionCounts(Date.now());
        const rows = store.listUsers().map((u) => ({ ...u, sessions: sessions.get(u.name) ?? 0 }));
        if (opts.json) return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        if (rows.length === 0) process.stdout.write('no users\n');
        for (const r of rows) {
          const state = [r.disabled ? 'disabled' : 'enabled', ...(r.must_change_password ? ['must change password'] : [])].join(', ');
          process.stdout.write(`${r.name.padEnd(16)} ${r.role.padEnd(11)} ${state.padEnd(32)} ${r.sessions} session(s)\n`);
        }
      }),
    );

  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    users
      .command(verb)
      .argument('<name>', 'user name')
      .description(disabled ? 'refuse logins and end all sessions (not the last enabled admin)' : 'allow a disabled user to log in again')
      .option(...configOption)
      .action((name: string, opts: { config: string }) =>
        withStore(opts.config, (store) => {
          try {
            store.setUserDisabled(name, disabled);
          } catch (e) {
            if (e instanceof RadscreenError) audit(store, `user.${verb}`, name, false, { refused: e.message, code: e.code });
            throw e;
          }
          audit(store, `user.${verb}`, name, true);
          process.stdout.write(`user ${name} ${verb}d\n`);
        }),
      );
  }

  users
    .command('delete')
    .argument('<name>', 'user name')
    .description('delete a user and its sessions; its audit entries stay (not the last enabled admin)')
    .option(...configOption)
    .action((name: string, opts: { config: string }) =>
      withStore(opts.config, (store) => {
        try {
          store.deleteUser(name);
        } catch (e) {
          if (e instanceof RadscreenError) audit(store, 'user.delete', name, false, { refused: e.message, code: e.code });
          throw e;
        }
        audit(store, 'user.delete', name, true);
        process.stdout.write(`user ${name} deleted\n`);
      }),
    );
}

/**
 * Writes the passwords of accounts created at start to the 0600 file and prints its path in
 * one line on stderr; nothing when no account was created. Passwords never reach stdout (the
 * JSON log) or stderr.
 */
export function reportOneTimePasswords(
  dataDir: string,
  created: { name: string; role: string; password?: string; mustChange?: boolean }[],
  source: string,
): void {
  const withPassword = created.flatMap((u) => (u.password ? [{ ...u, password: u.password }] : []));
  if (withPassword.length === 0) return;
  const path = writeOneTimePasswords(dataDir, withPassword, { source });
  process.stderr.write(
    `radscreen: password(s) for ${withPassword.map((u) => u.name).join(', ')} written to ${path} (mode 0600; read, change, delete)\n`,
  );
}

/** `radscreen server` on an empty store: creates `admin` with a one-time password (see ensureFirstAdmin). */
export async function bootstrapFirstAdmin(store: AuthStore, dataDir: string): Promise<void> {
  const added = await ensureFirstAdmin(store);
  if (added?.generatedPassword)
    reportOneTimePasswords(
      dataDir,
      [{ name: added.user.name, role: added.user.role, password: added.generatedPassword, mustChange: true }],
      'radscreen server (first start)',
    );
}
