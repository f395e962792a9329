import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { queryInflux } from './influx-query.ts';
import { type InfluxdHandle, type MosquittoHandle, startInfluxd, startMosquitto, stopChild } from './services.ts';

/**
 * The fault suite's rig: a private mosquitto (persistence on) and influxd, a station config with
 * two MQTT-native devices, and `radscreen agent` / `radscreen ingest` as separate real processes
 * that a test can SIGKILL and restart. A persistent QoS 1 publisher plays the devices and sends
 * numbered readings; the count of readings the broker acknowledged is the ground truth that
 * InfluxDB must match exactly once (see docs/data-integrity.md).
 */

const ROOT = new URL('../../', import.meta.url).pathname;
export const STATION = 'fault';
/** `agent-clock`: no timestamp in its JSON, so the agent stamps receive time (the burst case). */
export const AGENT_CLOCK = 'agent-clock';
/** `device-clock`: carries its own ms timestamp. */
export const DEVICE_CLOCK = 'device-clock';

export interface Rig {
  dir: string;
  broker: MosquittoHandle;
  influx: InfluxdHandle;
  configPath: string;
  close(): Promise<void>;
}

/** `shareGroup`: N workers on one shared subscription; `ingestConnections`: MQTT connections per ingest (src/ingest/connections.ts). */
export interface RigOptions {
  shareGroup?: string;
  ingestConnections?: number;
}

export async function startRig(tmpDir: string, name: string, opts: RigOptions = {}): Promise<Rig> {
  const dir = mkdtempSync(join(tmpDir, `${name}-`));
  const [influx, broker] = await Promise.all([startInfluxd(join(dir, 'influx')), startMosquitto(join(dir, 'mosquitto'))]);
  const configPath = join(dir, 'station.yaml');
  writeFileSync(configPath, stationConfig(dir, broker.url, influx.url, opts));
  return {
    dir,
    broker,
    influx,
    configPath,
    async close() {
      await Promise.all([influx.stop(), broker.stop()]);
    },
  };
}

function stationConfig(dir: string, mqttUrl: string, influxUrl: string, opts: RigOptions): string {
  const ingest = [
    ...(opts.shareGroup ? [`share_group: ${opts.shareGroup}`] : []),
    ...(opts.ingestConnections ? [`connections: ${opts.ingestConnections}`] : []),
  ];
  return `station: { id: ${STATION} }
data_dir: ${join(dir, 'data')}
mqtt: { url: "${mqttUrl}" }
influx:
  url: "${influxUrl}"
  batch_size: 1000
  flush_interval_ms: 200
agent: { coalesce_ms: 20 }
${ingest.length > 0 ? `ingest: { ${ingest.join(', ')} }` : ''}
devices:
  - id: ${AGENT_CLOCK}
    profile: mqtt-json
    mqtt: { topic: "fault/${AGENT_CLOCK}" }
    options:
      fields: { counts: { path: n, unit: counts } }
  - id: ${DEVICE_CLOCK}
    profile: mqtt-json
    mqtt: { topic: "fault/${DEVICE_CLOCK}" }
    options:
      fields: { counts: { path: n, unit: counts } }
      timestamp: { path: t, format: ms }
`;
}

/** One `radscreen <command>` process; its output goes to a log file in the rig's dir. */
export interface RadscreenProcess {
  proc: ChildProcess;
  /** Resolves when the process has logged a line containing `text` (e.g. ingest's "ingest subscribed"). */
  logged(text: string, timeoutMs?: number): Promise<void>;
  exited: Promise<void>;
  sigkill(): Promise<void>;
  stop(): Promise<void>;
}

export function startRadscreen(rig: Rig, args: string[], logName: string): RadscreenProcess {
  mkdirSync(join(rig.dir, 'logs'), { recursive: true });
  const log = createWriteStream(join(rig.dir, 'logs', `${logName}.log`), { flags: 'a' });
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args, '--config', rig.configPath], {
    cwd: ROOT, // `--import tsx` resolves from here; the config holds absolute paths
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RADSCREEN_LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? 'info' },
  });
  let output = '';
  const waiters: Array<() => void> = [];
  for (const stream of [proc.stdout, proc.stderr]) {
    stream?.pipe(log);
    stream?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-65_536);
      for (const w of waiters.splice(0)) w();
    });
  }
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    exited,
    async logged(text, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!output.includes(text)) {
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`${logName}: no "${text}" within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 250);
        });
      }
    },
    async sigkill() {
      proc.kill('SIGKILL');
      await exited;
    },
    stop: () => stopChild(proc, 10_000),
  };
}

/**
 * Plays both devices: numbered messages from one persistent session (clean: false, fixed client
 * id), so mqtt.js re-sends unacknowledged ones after a broker outage. `acked` counts the messages
 * whose handshake completed: the broker took responsibility for exactly those.
 *
 * QoS 2 on the device's own leg: at QoS 1 a device that re-sends after losing a PUBACK (broker
 * outage) makes a second message the broker cannot tell from a new one, and a reading without a
 * device clock then gets a second identity. That is the device's choice, documented in
 * docs/data-integrity.md; what radscreen guarantees starts where the broker accepted a message once.
 */
export class NumberedPublisher {
  readonly acked = { [AGENT_CLOCK]: 0, [DEVICE_CLOCK]: 0 };
  readonly sent = { [AGENT_CLOCK]: 0, [DEVICE_CLOCK]: 0 };
  private client: MqttClient;
  private timer: NodeJS.Timeout | undefined;
  private lastDeviceTs = 0;
  private pending = 0;

  constructor(url: string, clientId: string) {
    this.client = mqtt.connect(url, { clientId, clean: false, reconnectPeriod: 200, connectTimeout: 2000 });
    this.client.on('error', () => undefined);
  }

  /** Sends `perTick` messages per device every 10 ms (100 × perTick per device per second). */
  start(perTick = 2): void {
    this.timer = setInterval(() => {
      for (let i = 0; i < perTick; i++) {
        this.publish(AGENT_CLOCK, {});
        // A device clock never repeats a millisecond here, so every reading has its own identity.
        this.lastDeviceTs = Math.max(Date.now(), this.lastDeviceTs + 1);
        this.publish(DEVICE_CLOCK, { t: this.lastDeviceTs });
      }
    }, 10);
  }

  private publish(device: typeof AGENT_CLOCK | typeof DEVICE_CLOCK, extra: Record<string, number>): void {
    const n = this.sent[device]++;
    this.pending++;
    this.client.publish(`fault/${device}`, JSON.stringify({ n, ...extra }), { qos: 2 }, (err) => {
      this.pending--;
      if (!err) this.acked[device]++;
    });
  }

  /** Stops sending and waits until the broker acknowledged every message sent. */
  async finish(timeoutMs = 60_000): Promise<void> {
    clearInterval(this.timer);
    const deadline = Date.now() + timeoutMs;
    while (this.pending > 0) {
      if (Date.now() > deadline) throw new Error(`publisher: ${this.pending} messages never acknowledged`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.client.endAsync(true);
  }
}

export interface StoredCount {
  count: number;
  distinct: number;
  max: number;
}

/** What InfluxDB holds of one device's numbered readings: points, distinct numbers, the highest number. */
export async function storedNumbers(influxUrl: string, device: string): Promise<StoredCount> {
  const q = `SELECT COUNT("counts"), COUNT(DISTINCT("counts")), MAX("counts") FROM "radiation" WHERE "device" = '${device}'`;
  // Until ingest has created the database (or while influxd restarts) there is nothing stored yet.
  const r = await queryInflux(influxUrl, 'radscreen', q).catch(() => undefined);
  const row = r?.series?.[0]?.values[0];
  return { count: Number(row?.[1] ?? 0), distinct: Number(row?.[2] ?? 0), max: Number(row?.[3] ?? -1) };
}

/**
 * Resolves once the agent reports both devices online (their retained status), i.e. its device
 * subscriptions exist. Before the first one a broker has no session to queue for, so a message
 * published earlier is acknowledged and then, correctly, delivered to nobody.
 */
export async function agentOnline(rig: Rig, timeoutMs = 30_000): Promise<void> {
  const client = await mqtt.connectAsync(rig.broker.url, { clientId: `fault-watch-${process.pid}` });
  const online = new Set<string>();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent not online within ${timeoutMs} ms: ${[...online]}`)), timeoutMs);
      client.on('message', (_topic, payload) => {
        const status = JSON.parse(payload.toString()) as { device: string; state: string };
        if (status.state === 'online') online.add(status.device);
        if (online.has(AGENT_CLOCK) && online.has(DEVICE_CLOCK)) {
          clearTimeout(timer);
          resolve();
        }
      });
      client.subscribe(`radscreen/v1/${STATION}/+/status`, { qos: 1 });
    });
  } finally {
    await client.endAsync(true);
  }
}
