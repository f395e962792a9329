import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import type { Logger } from 'pino';
import { type Agent, startAgent } from '../agent/agent.ts';
import type { DeviceStats } from '../agent/device-runner.ts';
import { createAgentMetrics } from '../agent/metrics.ts';
import { startConfiguredSimulators } from '../agent/simulated-links.ts';
import { calibrationKeyPath, loadOrCreateCalibrationKey } from '../calibration/signing.ts';
import type { Config } from '../config/schema.ts';
import type { DeviceProfile } from '../core/profile.ts';
import { createDurableReceipts } from '../core/receipts.ts';
import type { SimulatorFactory } from '../core/simulator.ts';
import { type IngestHandle, startIngest } from '../ingest/consumer.ts';
import { deviceTopicsFrom } from '../security/device-topics.ts';
import { mqttClientOptions } from '../security/mqtt-client-options.ts';
import { credentialsPath, loadMqttCredentials } from '../security/mqtt-credentials.ts';
import { ensureDemoUsers } from '../server/auth/provision.ts';
import type { Role } from '../server/auth/roles.ts';
import { ingestHealth } from '../server/health-checks.ts';
import { createDataPathMetrics } from '../server/metrics.ts';
import { startServer } from '../server/start.ts';
import { registerBrokerMetrics } from './broker-metrics.ts';
import { type EmbeddedBroker, startEmbeddedBroker } from './embedded-broker.ts';
import { hasInfluxd, startManagedInfluxd } from './managed-influxd.ts';

export interface StationOptions {
  config: Config;
  catalogue: ReadonlyMap<string, DeviceProfile>;
  simulators: ReadonlyMap<string, SimulatorFactory>;
  log: Logger;
}

export interface Station {
  consoleUrl: string;
  mqttUrl: string;
  /** The embedded broker's `mqtts://` listener, when `mqtt.embedded.tls` asked for one. */
  mqttTlsUrl?: string;
  influxUrl: string | undefined;
  linkMode: 'pty' | 'memory' | 'none';
  /** One account per role; `password` only for accounts created now (print it once, it is stored hashed). */
  demoUsers: { name: string; role: Role; password?: string }[];
  /** Per-device counts from the agent: accepted readings, rejects by code, link state. */
  deviceStats(): DeviceStats[];
  stop(): Promise<void>;
}

/**
 * One process for one screening station: broker (embedded unless `mqtt.url`), storage
 * (`influx.url`, else a private influxd when installed), server, ingest, simulators and the
 * agent. The same modules `radscreen agent|ingest|server` run on their own, wired together.
 * Everything started here is stopped by `stop()`, in reverse order; a failure half-way stops
 * what was already started before it rethrows.
 */
export async function startStation({ config, catalogue, simulators, log }: StationOptions): Promise<Station> {
  const stack: { name: string; stop: () => Promise<void> }[] = [];
  const stop = async () => {
    for (const item of stack.splice(0).reverse()) {
      await item.stop().catch((e: Error) => log.warn({ err: e.message }, `stopping ${item.name} failed`));
    }
  };
  try {
    let mqttUrl = config.mqtt.url;
    let embedded: EmbeddedBroker | undefined;
    if (!mqttUrl) {
      const tls = config.mqtt.embedded.tls;
      const broker = await startEmbeddedBroker(config.mqtt.embedded.host, config.mqtt.embedded.port, {
        credentials: loadMqttCredentials(credentialsPath(config)),
        deviceTopics: deviceTopicsFrom(catalogue, config.devices),
        maxPacketBytes: config.mqtt.max_packet_bytes,
        log,
        ...(tls
          ? { tls: { ...(tls.host ? { host: tls.host } : {}), port: tls.port, certFile: tls.cert_file, keyFile: tls.key_file } }
          : {}),
      });
      stack.push({ name: 'embedded broker', stop: broker.close });
      mqttUrl = broker.url;
      embedded = broker;
      log.info({ url: mqttUrl, tls: broker.tlsUrl }, 'embedded MQTT broker (aedes) listening');
    }

    let influxUrl = config.influx.url;
    // The private influxd runs with auth on; its generated admin account is used by ingest.
    let influxAuth: { username: string; password: string } | undefined;
    let storageDetail = influxUrl ? `InfluxDB at ${influxUrl}` : '';
    if (!influxUrl && config.influx.managed === 'auto' && hasInfluxd()) {
      const configuredPort = config.influx.managed_port;
      const influxd = await startManagedInfluxd(join(config.data_dir, 'influxdb'), configuredPort ?? 8086, {
        strictPort: configuredPort !== undefined,
      });
      stack.push({ name: 'influxd', stop: influxd.stop });
      influxUrl = influxd.url;
      influxAuth = influxd.credentials;
      storageDetail = `private influxd at ${influxUrl} (data in ${join(config.data_dir, 'influxdb')})`;
      // Grafana and other tools find the data at this port (docs/install.md "Storage endpoint").
      const port = configuredPort ?? 8086;
      const choice = configuredPort !== undefined ? 'influx.managed_port' : influxUrl.endsWith(`:${port}`) ? 'default 8086' : 'fallback';
      log.info(
        { url: influxUrl, rpc: influxd.rpcAddress, pid: influxd.pid, port_choice: choice },
        'started a private influxd for this station',
      );
      if (choice === 'fallback')
        log.warn(
          `port 8086 is in use: the private influxd listens on ${influxUrl}; set influx.managed_port so Grafana finds it at a fixed port`,
        );
    } else if (!influxUrl) {
      storageDetail = 'readings are NOT being stored: set influx.url, or install influxd (apt-get install influxdb)';
      log.warn(storageDetail);
    }

    const serverClient = mqtt.connect(mqttUrl, {
      protocolVersion: 4,
      clientId: `radscreen-server-${config.station.id}-${process.pid}`,
      ...mqttClientOptions(config, { role: 'server', station: config.station.id }),
    });
    stack.push({ name: 'server mqtt client', stop: async () => void (await serverClient.endAsync()) });
    // One registry for the process: data-path figures read through refs filled in as the parts start.
    let ingestRef: IngestHandle | undefined;
    let agentRef: Agent | undefined;
    const metrics = createDataPathMetrics({
      ...(influxUrl ? { ingest: () => (ingestRef as IngestHandle).stats() } : {}),
      devices: () => agentRef?.stats() ?? [],
    });
    createAgentMetrics(() => agentRef?.stats() ?? [], metrics);
    if (embedded) registerBrokerMetrics(embedded.refusals, metrics);
    // One key for the process: the server signs calibrations with it, the agent verifies them.
    const calibrationKey = loadOrCreateCalibrationKey(calibrationKeyPath(config));
    const server = await startServer({
      config,
      calibrationKey,
      mqtt: serverClient,
      log,
      storage: { enabled: Boolean(influxUrl), detail: storageDetail },
      metrics,
      // /healthz: degraded while the spool is above its bound or InfluxDB is not taking writes.
      healthChecks: () => (ingestRef ? ingestHealth(ingestRef.stats(), Date.now()) : []),
      // Trainers' scenarios play into this same broker, through the same agent code path.
      training: { mqttUrl, simulators },
    });
    stack.push({ name: 'server', stop: server.close });
    // No default passwords: missing demo accounts get random ones, returned to be printed once.
    const demoUsers = await ensureDemoUsers(server.auth);

    // The embedded aedes keeps its queues in memory, so its PUBACK does not make a reading safe:
    // the agent keeps each reading in its outbox until this ingest has it in the spool.
    const receipts = influxUrl && !config.mqtt.url ? createDurableReceipts() : undefined;
    if (influxUrl) {
      const ingest = await startIngest({
        ...(receipts ? { receipts } : {}),
        mqttUrl,
        mqttOptions: mqttClientOptions(config, { role: 'ingest', station: config.station.id }),
        influx: {
          ...config.influx,
          ...influxAuth,
          url: influxUrl,
          spool_path: config.influx.spool_path ?? join(config.data_dir, 'ingest-spool.sqlite'),
        },
        log,
        clientId: `radscreen-ingest-${config.station.id}`,
        // More than 1 only with an external broker (config check): aedes has no shared subscriptions.
        connections: config.ingest.connections,
        known: { station: config.station.id, devices: config.devices },
        timestampWindow: { futureMs: config.time_window.future_s * 1000, pastMs: config.time_window.past_s * 1000 },
      });
      stack.push({
        name: 'ingest',
        stop: async () => {
          // The agent stopped first and drained its outbox into the broker; the embedded broker
          // keeps those messages only in memory, so ingest takes everything the agent published
          // before it lets go (bounded: a stuck ingest must not hang Ctrl-C).
          const published = () => (agentRef?.stats() ?? []).reduce((n, d) => n + d.published, 0);
          const deadline = Date.now() + 5000;
          while (ingest.stats().readings < published() && Date.now() < deadline) await sleep(20);
          await ingest.stop();
        },
      });
      ingestRef = ingest;
    }

    let linkMode: Station['linkMode'] = 'none';
    let agent: Agent | undefined;
    if (config.devices.some((d) => d.simulate)) {
      const sims = await startConfiguredSimulators(config, { catalogue, simulators, log, mqttUrl });
      stack.push({ name: 'simulators', stop: sims.stop });
      linkMode = sims.mode;
      if (sims.mode === 'memory')
        log.warn('socat is not installed: simulators run over in-process links, not real serial ptys (apt-get install socat)');
      agent = startAgent({ config, catalogue, mqttUrl, log, links: sims.links, calibrationKey, ...(receipts ? { receipts } : {}) });
      stack.push({ name: 'agent', stop: agent.stop });
    } else if (config.devices.length > 0) {
      agent = startAgent({ config, catalogue, mqttUrl, log, calibrationKey, ...(receipts ? { receipts } : {}) });
      stack.push({ name: 'agent', stop: agent.stop });
    }
    agentRef = agent;
    return {
      consoleUrl: server.url,
      mqttUrl,
      ...(embedded?.tlsUrl ? { mqttTlsUrl: embedded.tlsUrl } : {}),
      influxUrl,
      linkMode,
      demoUsers,
      deviceStats: () => agent?.stats() ?? [],
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
