import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry, register } from 'prom-client';

export interface MetricsEndpointOptions {
  host: string;
  /** 0: the OS picks a free port (the URL is logged and returned). */
  port: number;
  /** Registries served together with prom-client's default one (process metrics). */
  registries: Registry[];
  log: Logger;
}

export interface MetricsEndpoint {
  /** http://host:port/metrics, or undefined when the port could not be bound (logged, not fatal). */
  url: string | undefined;
  close(): Promise<void>;
}

let defaultsCollected = false;

/**
 * `GET /metrics` in Prometheus text format for a process without the Fastify server
 * (`radscreen agent`, `radscreen ingest`; docs/agent.md "Metrics"). Plain node:http, one route.
 * A port already in use is logged as an error and the process goes on without metrics: the data
 * path matters more than its figures.
 */
export async function startMetricsEndpoint(opts: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  if (!defaultsCollected) {
    collectDefaultMetrics({ prefix: 'radscreen_' });
    defaultsCollected = true;
  }
  const merged = Registry.merge([register, ...opts.registries]);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    merged.metrics().then(
      (text) => res.writeHead(200, { 'content-type': merged.contentType }).end(text),
      (err: Error) => {
        opts.log.error({ err: err.message }, 'metrics collection failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
      },
    );
  });
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      opts.log.error(
        { code: err.code, host: opts.host, port: opts.port },
        `cannot serve /metrics on ${opts.host}:${opts.port}: ${err.message}`,
      );
      resolve(false);
    });
    server.listen(opts.port, opts.host, () => resolve(true));
  });
  if (!bound) return { url: undefined, close: async () => {} };
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}/metrics`;
  opts.log.info({ url }, `metrics on ${url}`);
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
