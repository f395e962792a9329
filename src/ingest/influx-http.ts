import http from 'node:http';
import https from 'node:https';
import { LINE_PRECISION } from './line-protocol.ts';
import { classifyNetworkError, classifyWriteResponse, type WriteOutcome } from './write-errors.ts';

/**
 * POSTs pre-built line protocol to InfluxDB 1.x `/write` over a keep-alive agent.
 *
 * Why raw HTTP instead of the `influx` package's writePoints: posting pre-built lines measured
 * ~2.5× faster (docs/runtime-facts.md §4: ~400 k vs ~165 k points/s), and the package turns influxd's
 * transient 500s into "No host available" rejections of unrelated writes. Here every answer is
 * classified (write-errors.ts) and nothing is thrown: the caller decides drop or retry.
 */

export interface LinePosterOptions {
  /** Base URL of influxd, e.g. http://127.0.0.1:8086. */
  url: string;
  database: string;
  /** Omit to write to the database's default retention policy. */
  retentionPolicy?: string;
  username?: string;
  password?: string;
  /** Per-request timeout, ms. Default 30 000. A timed-out write is resent; point identity makes that idempotent. */
  requestTimeoutMs?: number;
  /** Sockets kept open (default 2: at most two batches are in flight). */
  maxSockets?: number;
}

export interface LinePoster {
  /**
   * Sends lines (µs precision, line-protocol.ts): one body, or rows of lines that are sent one
   * after another with `\n` between them, so a batch of rows is never joined into one big string.
   * Resolves with the classified outcome, never rejects.
   */
  post(body: string | readonly string[]): Promise<WriteOutcome>;
  /** Frees the keep-alive sockets. */
  destroy(): void;
}

export function createLinePoster(opts: LinePosterOptions): LinePoster {
  const base = new URL(opts.url);
  const client = base.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 2 });
  const query = new URLSearchParams({ db: opts.database, precision: LINE_PRECISION });
  if (opts.retentionPolicy) query.set('rp', opts.retentionPolicy);
  const writePath = `${base.pathname.replace(/\/$/, '')}/write?${query}`;
  const auth =
    opts.username !== undefined ? `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}` : undefined;
  const timeout = opts.requestTimeoutMs ?? 30_000;

  function post(body: string | readonly string[]): Promise<WriteOutcome> {
    const parts = typeof body === 'string' ? [body] : body;
    let length = Math.max(0, parts.length - 1);
    for (const part of parts) length += Buffer.byteLength(part);
    return new Promise((resolve) => {
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain; charset=utf-8', 'content-length': length };
      if (auth) headers.authorization = auth;
      const req = client.request(
        { protocol: base.protocol, hostname: base.hostname, port: base.port, path: writePath, method: 'POST', agent, headers, timeout },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => {
            const retryAfter = res.headers['retry-after'];
            resolve(
              classifyWriteResponse(
                res.statusCode ?? 0,
                Buffer.concat(parts).toString('utf8'),
                Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
              ),
            );
          });
          res.on('error', (err) => resolve(classifyNetworkError(err)));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeout} ms`)));
      req.on('error', (err) => resolve(classifyNetworkError(err)));
      parts.forEach((part, i) => {
        if (i > 0) req.write('\n');
        req.write(part);
      });
      req.end();
    });
  }

  return { post, destroy: () => agent.destroy() };
}
