import { type Logger, pino } from 'pino';
import { catalogue } from '../../devices/index.ts';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { RadscreenError } from '../core/errors.ts';
import { VERSION } from '../core/version.ts';
import { prettyDestination } from './log-format.ts';

/** Exit codes: 0 ok, 1 runtime failure or rejects under --strict, 2 bad config or usage. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** The levels RADSCREEN_LOG_LEVEL accepts (pino's). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * The process logger: pino, JSON lines on stdout (for journald and log shippers), or one
 * readable line per record with RADSCREEN_LOG_FORMAT=pretty. A level or format that is not
 * known exits 2 with the accepted values, instead of being ignored.
 */
export function createLogger(
  level = process.env.RADSCREEN_LOG_LEVEL ?? 'info',
  format = process.env.RADSCREEN_LOG_FORMAT ?? 'json',
): Logger {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    process.stderr.write(
      `radscreen: RADSCREEN_LOG_LEVEL '${level}' is not a log level (RS_ERR_CLI_USAGE); use one of: ${LOG_LEVELS.join(', ')}\n`,
    );
    process.exit(EXIT.usage);
  }
  if (format !== 'json' && format !== 'pretty') {
    process.stderr.write(`radscreen: RADSCREEN_LOG_FORMAT '${format}' is not a log format (RS_ERR_CLI_USAGE); use json or pretty\n`);
    process.exit(EXIT.usage);
  }
  // Every line carries the version, so a log read months later says which code wrote it.
  const options = { level, base: { pid: process.pid, version: VERSION } };
  return format === 'pretty' ? pino(options, prettyDestination(process.stdout)) : pino(options);
}

/**
 * The logger of a long-running command (station, agent, ingest, server); its first line names the
 * command and the version, so the journal shows which code started when.
 */
export function createServiceLogger(command: string): Logger {
  const log = createLogger();
  log.info({ command, node: process.version }, `radscreen ${VERSION} ${command} starting`);
  return log;
}

/**
 * Loads and checks the config, or prints every problem as `path: message` and exits 2
 * before anything touches a device.
 */
export function loadConfigOrExit(path: string): Config {
  try {
    return loadConfig(path, { catalogue });
  } catch (e) {
    if (e instanceof RadscreenError) {
      process.stderr.write(`radscreen: ${e.message} (${e.code}): ${path}\n`);
      for (const line of (e.details as string[] | undefined) ?? []) process.stderr.write(`  ${line}\n`);
      process.exit(EXIT.usage);
    }
    throw e;
  }
}

/** Runs `stop` once on the first SIGINT/SIGTERM; a second signal exits at once. */
export function stopOnSignals(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) {
      log.warn(`second ${signal}: exiting without waiting`);
      process.exit(EXIT.failure);
    }
    stopping = true;
    log.info(`${signal}: stopping everything this process started`);
    stop().then(
      () => process.exit(EXIT.ok),
      (e: Error) => {
        log.error({ err: e.message }, 'shutdown failed');
        process.exit(EXIT.failure);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}
