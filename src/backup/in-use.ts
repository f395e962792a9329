import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Who is using a data dir: every long-running radscreen process (station, agent, ingest, server)
 * leaves `<data_dir>/run/<command>-<pid>.pid` while it runs. `radscreen restore` refuses a data dir
 * that a live one names. A file left by a killed process (SIGKILL, power loss) is stale: its pid is
 * gone, or now belongs to a process that is not radscreen (pid reuse), and it is removed.
 */
export function runDir(dataDir: string): string {
  return join(dataDir, 'run');
}

/** Marks the data dir as used by this process until it exits. */
export function markDataDirInUse(dataDir: string, command: string): void {
  const dir = runDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${command}-${process.pid}.pid`);
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  process.on('exit', () => rmSync(file, { force: true }));
}

/** The live radscreen processes using `dataDir`, as `command pid`; stale pid files are removed. */
export function dataDirUsers(dataDir: string): string[] {
  const dir = runDir(dataDir);
  if (!existsSync(dir)) return [];
  const users: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = /^(.+)-(\d+)\.pid$/.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    if (isRadscreen(pid)) users.push(`${m[1]} ${pid}`);
    else rmSync(join(dir, name), { force: true });
  }
  return users;
}

function isRadscreen(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: alive but another user's; count it as in use rather than guess.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  const cmdline = join('/proc', String(pid), 'cmdline');
  if (!existsSync(cmdline)) return true;
  return /radscreen|src\/cli\/main|bin\/radscreen/.test(readFileSync(cmdline, 'utf8'));
}
