import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MAX_READINGS_PAYLOAD_BYTES } from '../../src/core/reading-contract.ts';
import { mosquittoPasswordLine } from '../../src/security/mosquitto-files.ts';
import { mqttClientOptions } from '../../src/security/mqtt-client-options.ts';
import { ACL_CASES, ACL_STATION, aclConfig, aclConfigYaml, connectOnce, describeCase, trySubscribe } from '../support/acl-cases.ts';
import { asServer, loginAs } from '../support/mqtt-identities.ts';
import { type MosquittoHandle, startMosquitto } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';

/**
 * `radscreen mqtt-acl` on a REAL mosquitto: the files it writes (password_file hashed by
 * mosquitto_passwd, acl_file, the conf snippet verbatim) make mosquitto answer every row of the
 * table the embedded broker answers (test/component/broker-acl.test.ts), and refuse anonymous
 * clients. mosquitto drops a refused v3.1.1 publish silently, so a watcher (a test-only user
 * that reads everything) tells whether it was delivered.
 */
/** A topic each subscribing identity may read, for the sentinel. */
const READABLE: Record<string, string> = {
  server: `radscreen/v1/${ACL_STATION}/alarms`,
  ingest: `radscreen/v1/${ACL_STATION}/g1/readings`,
  agent: `radscreen/v1/${ACL_STATION}/g1/calibration`,
  training: `radscreen/v1/${ACL_STATION}/alarms`,
};

/** A topic a filter matches: `+` → g2, `#` → forbidden/x, a shared subscription's own filter. */
const concreteTopic = (filter: string) =>
  filter
    .replace(/^\$share\/[^/]+\//, '')
    .split('/')
    .map((l) => (l === '+' ? 'g2' : l === '#' ? 'forbidden/x' : l))
    .join('/');

describe('mosquitto with the generated password_file and acl_file', () => {
  const { tmpDir } = inject('services');
  const dir = mkdtempSync(join(tmpDir, 'mosquitto-acl-'));
  const dataDir = join(dir, 'data');
  const out = join(dir, 'mosquitto-files');
  let mosquitto: MosquittoHandle;
  let watcher: MqttClient;
  const seen: string[] = [];
  let n = 0;

  beforeAll(async () => {
    const cfg = join(dir, 'station.yaml');
    writeFileSync(cfg, aclConfigYaml(dataDir));
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'mqtt-acl', '-c', cfg, '--out', out], {
      encoding: 'utf8',
    });
    expect(stdout).toMatch(/hashed by mosquitto_passwd/);
    // The test's own superuser, hashed by our fallback (the same format mosquitto must accept).
    appendFileSync(join(out, 'password_file'), `${mosquittoPasswordLine('watcher', 'watcher-password')}\n`);
    appendFileSync(join(out, 'acl_file'), 'user watcher\ntopic readwrite #\n');
    mosquitto = await startMosquitto(join(dir, 'mosquitto'), { lines: readFileSync(join(out, 'mosquitto.conf.snippet'), 'utf8') });
    watcher = await connectOnce(mosquitto.url, { username: 'watcher', password: 'watcher-password' });
    watcher.on('message', (_t, p) => seen.push(p.toString()));
    await watcher.subscribeAsync('#', { qos: 1 });
  });
  afterAll(async () => {
    await watcher?.endAsync();
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the password_file 0600, and --help explains the command', () => {
    expect(statSync(join(out, 'password_file')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, 'password_file'), 'utf8')).toMatch(/^server@acl:\$7\$101\$/m);
    const help = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'mqtt-acl', '--help'], { encoding: 'utf8' });
    expect(help).toMatch(/--out <dir>/);
  });

  it('refuses anonymous clients and wrong passwords', async () => {
    await expect(connectOnce(mosquitto.url, {})).rejects.toThrow(/Not authorized|Bad username or password/);
    await expect(connectOnce(mosquitto.url, { ...asServer(dataDir, ACL_STATION), password: 'guess' })).rejects.toThrow(
      /Not authorized|Bad username or password/,
    );
  });

  it('disconnects a client whose packet exceeds max_packet_size from the snippet', async () => {
    const g1 = loginAs(dataDir, { role: 'agent', station: ACL_STATION, device: 'g1' });
    const client = await connectOnce(mosquitto.url, g1);
    await client.publishAsync(`radscreen/v1/${ACL_STATION}/g1/readings`, Buffer.alloc(MAX_READINGS_PAYLOAD_BYTES, 0x20), { qos: 1 });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(`radscreen/v1/${ACL_STATION}/g1/readings`, Buffer.alloc(4 * 1024 * 1024, 0x20), { qos: 1 });
    await closed;
    client.end(true);
  });

  it('an MQTT v5 client announces mqtt.max_packet_bytes and mosquitto sends it nothing larger', async () => {
    const config = aclConfig(dataDir);
    const small = { ...config, mqtt: { ...config.mqtt, max_packet_bytes: 2048 } };
    const ingest = await mqtt.connectAsync(mosquitto.url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      ...mqttClientOptions(small, { role: 'ingest', station: ACL_STATION }, 5),
    });
    const g1 = await connectOnce(mosquitto.url, loginAs(dataDir, { role: 'agent', station: ACL_STATION, device: 'g1' }));
    try {
      const sizes: number[] = [];
      ingest.on('message', (_t, p) => sizes.push(p.length));
      await ingest.subscribeAsync(`radscreen/v1/${ACL_STATION}/g1/readings`, { qos: 1 });
      await g1.publishAsync(`radscreen/v1/${ACL_STATION}/g1/readings`, Buffer.alloc(4096, 0x20), { qos: 1 });
      await g1.publishAsync(`radscreen/v1/${ACL_STATION}/g1/readings`, Buffer.alloc(100, 0x20), { qos: 1 });
      await waitFor(() => sizes.length > 0, { timeoutMs: 5000 });
      expect(sizes).toEqual([100]);
      expect(ingest.connected).toBe(true);
    } finally {
      await g1.endAsync();
      await ingest.endAsync();
    }
  });

  /** `radscreen agent` as its own process, reading the station's credentials through `mqtt.credentials_file`. */
  async function runAgent(
    name: string,
    credentialsFile: string,
    until: (out: string) => boolean,
  ): Promise<{ out: string; code: number | string | null }> {
    const cfg = join(dir, `${name}.yaml`);
    writeFileSync(
      cfg,
      `station: { id: ${ACL_STATION} }\ndata_dir: ${join(dir, name)}\nmqtt: { url: '${mosquitto.url}', credentials_file: ${credentialsFile} }\n` +
        'devices:\n  - { id: g1, profile: mightyohm-geiger, simulate: { tick_ms: 50, seed: 1 } }\n',
    );
    const proc = spawn(process.execPath, ['bin/radscreen.js', 'agent', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let code: number | string | null = null;
    const collect = (b: Buffer) => {
      out += b.toString();
    };
    proc.stdout.on('data', collect);
    proc.stderr.on('data', collect);
    try {
      await waitFor(() => until(out), { timeoutMs: 20_000, describe: () => out.slice(-800) });
    } finally {
      const exited = new Promise<void>((r) =>
        proc.once('exit', (c, s) => {
          code = c ?? s;
          r();
        }),
      );
      proc.kill('SIGTERM');
      // An agent that cannot reach its broker waits on its outbox: do not let it hold the test.
      const stuck = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(stuck);
    }
    return { out, code };
  }

  it('a separate `radscreen agent` process pointed at the station credentials file publishes; with another file it is refused', async () => {
    const got: string[] = [];
    const server = await connectOnce(mosquitto.url, asServer(dataDir, ACL_STATION));
    try {
      server.on('message', (t) => got.push(t));
      await server.subscribeAsync(`radscreen/v1/${ACL_STATION}/g1/readings`, { qos: 1 });
      const ok = await runAgent('agent-ok', join(dataDir, 'mqtt-credentials.json'), () => got.length >= 3);
      expect(ok.code).toBe(0);
      const refused = await runAgent('agent-wrong', join(dir, 'other-credentials.json'), (out) => /Not authorized|Bad username/.test(out));
      expect(refused.out).toMatch(/Not authorized|Bad username/);
      // Refused by the broker, it still stops on SIGTERM (it used to wait forever for a PUBACK).
      expect(refused.code).toBe(0);
    } finally {
      await server.endAsync();
    }
  });

  it.each(ACL_CASES.map((c) => [describeCase(c), c] as const))('%s', async (_name, c) => {
    const client = await connectOnce(mosquitto.url, loginAs(dataDir, c.who));
    try {
      if (c.action === 'subscribe') {
        // mosquitto 2.0 grants every SUBSCRIBE and applies the read ACL per message, so the row
        // is about delivery: a message on a topic the filter matches, then one on a topic this
        // identity may read, which arrives after it on the same connection.
        const got: string[] = [];
        client.on('message', (_t, p) => got.push(p.toString()));
        const readable = READABLE[c.who.role] as string;
        await trySubscribe(client, c.topic);
        await trySubscribe(client, readable);
        const payload = `case-${++n}`;
        await watcher.publishAsync(concreteTopic(c.topic), payload, { qos: 1 });
        await watcher.publishAsync(readable, `sentinel-${n}`, { qos: 1 });
        await waitFor(() => got.includes(`sentinel-${n}`), { timeoutMs: 5000 });
        expect(got.includes(payload)).toBe(c.allowed);
        return;
      }
      const payload = `case-${++n}`;
      await client.publishAsync(c.topic, payload, { qos: 1 });
      // mosquitto routes a QoS 1 publish before its PUBACK: a later sentinel arrives after it.
      const sentinel = `sentinel-${n}`;
      await watcher.publishAsync(`zz/sentinel`, sentinel, { qos: 1 });
      await waitFor(() => seen.includes(sentinel), { timeoutMs: 5000 });
      expect(seen.includes(payload)).toBe(c.allowed);
    } finally {
      await client.endAsync(true);
    }
  });
});
