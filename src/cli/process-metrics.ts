import { InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type MetricsEndpoint, startMetricsEndpoint } from '../core/metrics-http.ts';

/** `--metrics-port`: 0–65535 (0: the OS picks a free port, logged). */
export function parseMetricsPort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number 0–65535');
  return n;
}

export const METRICS_PORT_OPTION = [
  '--metrics-port <port>',
  'serve Prometheus /metrics on this port (default: agent.metrics / ingest.metrics in the config; 0 picks a free one)',
  parseMetricsPort,
] as const;

/**
 * Serves /metrics for `radscreen agent` or `radscreen ingest` (docs/agent.md "Metrics"): the
 * flag wins over the config's `<role>.metrics`; `offset` separates ingest workers on one host.
 */
export function serveProcessMetrics(opts: {
  endpoint: { host: string; port: number };
  flagPort: number | undefined;
  offset?: number;
  registries: Registry[];
  log: Logger;
}): Promise<MetricsEndpoint> {
  const port = opts.flagPort ?? (opts.endpoint.port === 0 ? 0 : opts.endpoint.port + (opts.offset ?? 0));
  return startMetricsEndpoint({ host: opts.endpoint.host, port, registries: opts.registries, log: opts.log });
}
