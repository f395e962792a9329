import { rmSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { catalogue } from '../../devices/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { addUser } from '../../src/server/auth/provision.ts';
import type { Role } from '../../src/server/auth/roles.ts';
import { type AuthStore, openAuthStore } from '../../src/server/auth/store.ts';
import { type RunningServer, startServer } from '../../src/server/start.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { launchChromium, openConsole } from './browser.ts';
import { asServer, startTestBroker } from './mqtt-identities.ts';

/** What a browser test of the console stands on: a broker, the real server, users, Chromium. */
export interface ConsoleStack {
  broker: EmbeddedBroker;
  /** The server's own MQTT connection. */
  client: MqttClient;
  store: AuthStore;
  server: RunningServer;
  browser: Browser;
  page: Page;
  /** Closes everything above and removes `dataDir`. */
  close(): Promise<void>;
}

export async function startConsoleStack(opts: {
  /** Station config YAML; its data_dir should be `dataDir`. */
  config: string;
  dataDir: string;
  users: { name: string; role: Role; password: string }[];
  /** Let trainers run scenarios into this stack's broker. */
  training?: boolean;
}): Promise<ConsoleStack> {
  const config = parseConfig(opts.config, { catalogue, env: {} });
  const broker = await startTestBroker(opts.dataDir);
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asServer(opts.dataDir, config.station.id) });
  const store = openAuthStore();
  for (const u of opts.users) await addUser(store, u);
  const server = await startServer({
    config,
    mqtt: client,
    log: pino({ level: 'silent' }),
    storage: { enabled: true, detail: 'test' },
    auth: store,
    ...(opts.training ? { training: { mqttUrl: broker.url } } : {}),
  });
  const browser = await launchChromium();
  const page = await openConsole(browser, server.url);
  return {
    broker,
    client,
    store,
    server,
    browser,
    page,
    async close() {
      await browser.close();
      await server.close();
      store.close();
      await client.endAsync();
      await broker.close();
      rmSync(opts.dataDir, { recursive: true, force: true });
    },
  };
}
