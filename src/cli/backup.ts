import type { Command } from 'commander';
import { EXIT, loadConfigOrExit } from './common.ts';

/** `radscreen backup <dir>` and `radscreen restore <dir>` (src/backup/, docs/install.md "Backup and restore"). */
export function registerBackupCommands(program: Command): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const failed = (e: Error) => {
    process.stderr.write(`radscreen: ${e.message}\n`);
    process.exit(EXIT.failure);
  };
  program
    .command('backup')
    .argument('<dir>', 'new (or empty) directory to write the backup into')
    .description("copy a station's SQLite databases (online, safe while it runs), keys and its private InfluxDB database into <dir>")
    .option('-c, --config <file>', 'YAML config file', 'examples/station.yaml')
    .action(async (dir: string, opts: { config: string }) => {
      const config = loadConfigOrExit(opts.config);
      const { takeBackup } = await import('../backup/backup.ts');
      await takeBackup({ config, target: dir, out }).catch(failed);
    });
  program
    .command('restore')
    .argument('<dir>', 'a directory written by `radscreen backup`')
    .description("put a backup back into a stopped station's empty data dir (refuses while the station runs)")
    .option('-c, --config <file>', 'YAML config file', 'examples/station.yaml')
    .action(async (dir: string, opts: { config: string }) => {
      const config = loadConfigOrExit(opts.config);
      const { restoreBackup } = await import('../backup/restore.ts');
      await restoreBackup({ config, source: dir, out }).catch(failed);
    });
}
