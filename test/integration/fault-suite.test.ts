import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  AGENT_CLOCK,
  agentOnline,
  DEVICE_CLOCK,
  NumberedPublisher,
  type RadscreenProcess,
  type Rig,
  type RigOptions,
  startRadscreen,
  startRig,
  storedNumbers,
} from '../support/fault-rig.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The fault suite (issue 8): steady load from a persistent QoS 1 publisher playing two devices
 * (one stamped by the agent, one with its own clock), through `radscreen agent` and
 * `radscreen ingest` as separate real processes, a real mosquitto with persistence and a real
 * influxd. Each test injects one fault mid-stream and then demands exact accounting: every
 * reading the broker acknowledged to the publisher is in InfluxDB exactly once.
 */

const services = inject('services');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rig(name: string, opts: RigOptions = {}): Promise<Rig> {
  const r = await startRig(services.tmpDir, name, opts);
  cleanups.push(() => r.close());
  return r;
}

function run(r: Rig, args: string[], logName: string): RadscreenProcess {
  const p = startRadscreen(r, args, logName);
  cleanups.push(() => p.stop());
  return p;
}

/**
 * An ingest whose first subscription exists. On a fresh broker there is no session to queue for
 * until then, so readings published earlier would be acknowledged and delivered to nobody.
 */
async function ingestRunning(r: Rig, args: string[], logName: string): Promise<RadscreenProcess> {
  const p = run(r, args, logName);
  await p.logged('ingest subscribed');
  return p;
}

/** A graceful broker stop: mosquitto writes its persistence file on SIGTERM (it can take a while under load). */
const BROKER_GRACE_MS = 30_000;

/** The devices start publishing once the agent's first sessions exist (see agentOnline). */
async function publisher(r: Rig): Promise<NumberedPublisher> {
  await agentOnline(r);
  const p = new NumberedPublisher(r.broker.url, 'fault-devices');
  cleanups.push(() => p.close());
  return p;
}

/** Waits until readings of both devices are stored: the pipeline is flowing end to end. */
async function flowing(r: Rig): Promise<void> {
  await waitFor(
    async () => (await storedNumbers(r.influx.url, AGENT_CLOCK)).count > 50 && (await storedNumbers(r.influx.url, DEVICE_CLOCK)).count > 50,
    {
      timeoutMs: 30_000,
      everyMs: 250,
    },
  );
}

/** After the publisher finished: each device's stored readings are exactly 0..acked-1, once each. */
async function expectExactlyOnce(r: Rig, pub: NumberedPublisher): Promise<void> {
  await pub.finish();
  for (const device of [AGENT_CLOCK, DEVICE_CLOCK] as const) {
    const acked = pub.acked[device];
    expect(acked).toBe(pub.sent[device]);
    let stored = await storedNumbers(r.influx.url, device);
    await waitFor(
      async () => {
        stored = await storedNumbers(r.influx.url, device);
        return stored.count >= acked;
      },
      { timeoutMs: 60_000, everyMs: 250, describe: () => ({ device, acked, stored }) },
    );
    await sleep(500); // nothing more trickles in
    stored = await storedNumbers(r.influx.url, device);
    expect({ device, ...stored }).toEqual({ device, count: acked, distinct: acked, max: acked - 1 });
  }
}

describe('fault suite: exact accounting under faults, both clock kinds (issue 8)', () => {
  it('agent SIGKILL mid-stream, restarted 3 s later: the broker-queued readings arrive exactly once', async () => {
    const r = await rig('agent-kill');
    await ingestRunning(r, ['ingest'], 'ingest');
    const agent = run(r, ['agent'], 'agent');
    const pub = await publisher(r);
    pub.start();
    await flowing(r);
    await agent.sigkill();
    await sleep(3000);
    run(r, ['agent'], 'agent-2');
    await sleep(3000);
    await expectExactlyOnce(r, pub);
  });

  // With 4 connections the ingest holds one message per connection and commits them together
  // (src/ingest/connections.ts); a SIGKILL between that commit and the PUBACKs must lose nothing.
  it.each([
    { title: 'ingest SIGKILL mid-stream, restarted 3 s later: its spool and persistent session lose nothing', connections: 1 },
    {
      title: 'ingest with 4 MQTT connections (group commit) SIGKILLed mid-stream and restarted: nothing lost, nothing doubled',
      connections: 4,
    },
  ])('$title', async ({ connections }) => {
    const r = await rig(`ingest-kill-${connections}`, connections > 1 ? { ingestConnections: connections } : {});
    const ingest = await ingestRunning(r, ['ingest'], 'ingest');
    // Several persistent sessions on one shared subscription (without `$share` each would get everything).
    if (connections > 1) {
      await ingest.logged(`"connections":${connections}`, 5000);
      await ingest.logged('$share/radscreen-ingest-fault/', 5000);
    }
    run(r, ['agent'], 'agent');
    const pub = await publisher(r);
    pub.start();
    await flowing(r);
    await ingest.sigkill();
    await sleep(3000);
    run(r, ['ingest'], 'ingest-2');
    await sleep(3000);
    await expectExactlyOnce(r, pub);
  });

  it('influxd SIGKILL mid-stream, restarted 5 s later: the ingest spool holds and replays everything', async () => {
    const r = await rig('influx-kill');
    await ingestRunning(r, ['ingest'], 'ingest');
    run(r, ['agent'], 'agent');
    const pub = await publisher(r);
    pub.start();
    await flowing(r);
    process.kill(r.influx.pid, 'SIGKILL');
    await sleep(5000);
    await r.influx.restart();
    await sleep(3000);
    await expectExactlyOnce(r, pub);
  });

  it('mosquitto down for 20 s mid-stream: persistent sessions and outboxes deliver everything after it returns', async () => {
    const r = await rig('broker-down');
    await ingestRunning(r, ['ingest'], 'ingest');
    run(r, ['agent'], 'agent');
    const pub = await publisher(r);
    pub.start();
    await flowing(r);
    await r.broker.stop(BROKER_GRACE_MS);
    await sleep(20_000);
    await r.broker.restart();
    await sleep(3000);
    await expectExactlyOnce(r, pub);
  });

  it('one of two shared-subscription ingest workers SIGKILLed and restarted: nothing lost, nothing doubled', async () => {
    const r = await rig('worker-kill', { shareGroup: 'ingest' });
    const w1 = await ingestRunning(r, ['ingest', '--worker', '1'], 'ingest-w1');
    await ingestRunning(r, ['ingest', '--worker', '2'], 'ingest-w2');
    run(r, ['agent'], 'agent');
    const pub = await publisher(r);
    pub.start();
    await flowing(r);
    await w1.sigkill();
    await sleep(3000);
    run(r, ['ingest', '--worker', '1'], 'ingest-w1-2');
    await sleep(3000);
    await expectExactlyOnce(r, pub);
  });
});
