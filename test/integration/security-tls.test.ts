import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { addUser } from '../../src/server/auth/provision.ts';
import { type AuthStore, openAuthStore } from '../../src/server/auth/store.ts';
import { type RunningServer, startServer } from '../../src/server/start.ts';

/**
 * Issue 9 "HTTPS for the console/API (cert and key in config, Secure cookie, HSTS)": a
 * certificate made here with the openssl CLI, the real server on loopback, Node's TLS client
 * trusting only that certificate.
 */
const PASSWORD = 'amber-Rook-7431-tundra';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  protocol: string | null;
  authorized: boolean;
  body: string;
}

function request(url: string, ca: Buffer, opts: { method?: string; body?: unknown } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = https.request(
      url,
      { method: opts.method ?? 'GET', ca, headers: payload ? { 'content-type': 'application/json' } : {} },
      (res) => {
        const socket = res.socket as TLSSocket;
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            protocol: socket.getProtocol(),
            authorized: socket.authorized,
            body,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('HTTPS console and API', () => {
  let dir: string;
  let ca: Buffer;
  let client: MqttClient;
  let store: AuthStore;
  let server: RunningServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'radscreen-tls-'));
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    execFileSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    ca = readFileSync(cert);
    const config = parseConfig(
      `station: { id: tls-${process.pid} }\ndata_dir: ${dir}\nserver: { host: 127.0.0.1, port: 0, tls: { cert: ${cert}, key: ${key} } }\ndevices: []\n`,
      { catalogue, env: {} },
    );
    client = await mqtt.connectAsync(inject('services').mqttUrl, { protocolVersion: 4 });
    store = openAuthStore();
    await addUser(store, { name: 'operator', role: 'operator', password: PASSWORD });
    server = await startServer({
      config,
      mqtt: client,
      log: pino({ level: 'silent' }),
      storage: { enabled: false, detail: 'test' },
      auth: store,
    });
  });

  afterAll(async () => {
    await server?.close();
    store?.close();
    await client?.endAsync();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves https:// with a verified handshake and HSTS', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await request(`${server.url}/`, ca);
    expect(r.status).toBe(200);
    expect(r.authorized).toBe(true);
    expect(r.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(String(r.headers['strict-transport-security'])).toMatch(/max-age=31536000/);
    expect(String(r.headers['content-security-policy'])).toMatch(/upgrade-insecure-requests/);
  });

  it('sets the session cookie Secure, HttpOnly, SameSite=Strict', async () => {
    const r = await request(`${server.url}/api/login`, ca, { method: 'POST', body: { username: 'operator', password: PASSWORD } });
    expect(r.status).toBe(200);
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
  });

  it('refuses a client that does not trust the certificate', async () => {
    await expect(request(`${server.url}/healthz`, Buffer.from(''))).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it('refuses to start, naming the key, when a certificate file cannot be read', async () => {
    const config = parseConfig(
      `station: { id: tls-bad }\ndata_dir: ${dir}\nserver: { port: 0, tls: { cert: ${dir}/missing.pem, key: ${dir}/key.pem } }\ndevices: []\n`,
      { catalogue, env: {} },
    );
    await expect(
      startServer({ config, mqtt: client, log: pino({ level: 'silent' }), storage: { enabled: false, detail: 'test' } }),
    ).rejects.toThrow(/server\.tls\.cert: cannot read .*missing\.pem \(ENOENT\)/);
  });
});
