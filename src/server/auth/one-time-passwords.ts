import { appendFileSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE, preparePrivateFile } from '../../core/private-files.ts';

/** Where generated passwords go: `<data_dir>/one-time-passwords.txt`, mode 0600. */
export function oneTimePasswordsPath(dataDir: string): string {
  return join(dataDir, 'one-time-passwords.txt');
}

/**
 * Appends generated passwords to the 0600 file under the data directory and returns its path,
 * so the caller prints only the path (one line on stderr) and never a password into a terminal
 * scrollback or the JSON log stream. Appending keeps earlier, still unread entries; each block
 * is dated and names its source.
 */
export function writeOneTimePasswords(
  dataDir: string,
  accounts: { name: string; role: string; password: string; mustChange?: boolean }[],
  opts: { source: string; now?: number },
): string {
  const path = oneTimePasswordsPath(dataDir);
  preparePrivateFile(path);
  const when = new Date(opts.now ?? Date.now()).toISOString();
  const lines = accounts.map(
    (a) =>
      `${a.name.padEnd(16)} role ${a.role.padEnd(11)} password ${a.password}${a.mustChange ? '   (must be changed at first login)' : ''}`,
  );
  const block = `# ${when} ${opts.source}: new account(s). Log in, change the password (POST /api/me/password), then delete this file.\n${lines.join('\n')}\n\n`;
  // The file exists with 0600 already (preparePrivateFile); the mode here covers a race with deletion.
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  appendFileSync(path, block, { mode: PRIVATE_FILE_MODE });
  return path;
}
