/**
 * The logging the ingest needs; a pino `Logger` satisfies it, and tests can pass a silent one.
 * Objects first, message second, as pino expects.
 */
export interface IngestLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that discards everything. */
export const silentLogger: IngestLogger = { debug() {}, info() {}, warn() {}, error() {} };
