import { text } from 'node:stream/consumers';
import type { PasswordPolicy } from './password-policy.ts';
import { addUser } from './provision.ts';
import { RoleSchema } from './roles.ts';
import { authStorePath, openAuthStore } from './store.ts';

/**
 * `radscreen user add <name> --role <role> [--password-stdin] [--replace]`: creates a user in
 * `<data_dir>/users.sqlite`. Without --password-stdin a random password is generated and
 * returned in the output, the only time it is ever shown. Returns the text to print; throws
 * with a one-line message on bad input (the CLI turns it into exit code 2).
 */
export async function runUserAdd(opts: {
  name: string;
  role: string;
  passwordStdin?: boolean;
  replace?: boolean;
  dataDir: string;
  stdin?: NodeJS.ReadableStream;
  /** Rules for a password given on stdin; default 12 characters and the common-password list. */
  policy?: PasswordPolicy;
}): Promise<string> {
  const role = RoleSchema.safeParse(opts.role);
  if (!role.success) throw new Error(`--role must be one of ${RoleSchema.options.join(', ')}`);
  // Only the trailing newline of `echo pw |` is dropped; other whitespace is part of the password.
  const password = opts.passwordStdin ? (await text(opts.stdin ?? process.stdin)).replace(/\r?\n$/, '') : undefined;
  const store = openAuthStore(authStorePath(opts.dataDir));
  try {
    const added = await addUser(store, {
      name: opts.name,
      role: role.data,
      replace: opts.replace ?? false,
      ...(password !== undefined ? { password } : {}),
      ...(opts.policy ? { policy: opts.policy } : {}),
    });
    const verb = opts.replace ? 'updated' : 'added';
    return added.generatedPassword
      ? `user ${added.user.name} (${added.user.role}) ${verb}; password (shown once): ${added.generatedPassword}\n`
      : `user ${added.user.name} (${added.user.role}) ${verb}\n`;
  } finally {
    store.close();
  }
}
