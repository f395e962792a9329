import { Counter, Gauge, Registry } from 'prom-client';
import type { DeviceStats } from './device-runner.ts';

/**
 * The agent's own figures, per device, read from the runners' counters at scrape time (no work on
 * the hot path): readings accepted and published, rejects by code, dead letters sent and held
 * back by the rate limit, and whether the device is online. The outbox depth is in
 * src/server/metrics.ts (`radscreen_agent_outbox_depth_readings`), shared with the station.
 * Registers on `registry` (the station passes the server's) or a new one.
 */
export function createAgentMetrics(devices: () => DeviceStats[], registry: Registry = new Registry()): Registry {
  // Counters only go up through inc(): mirror each total by the difference since the last scrape.
  const mirrorer = () => {
    const seen = new Map<string, number>();
    return (counter: Counter<string>, labels: Record<string, string>, total: number) => {
      const key = JSON.stringify(labels);
      const delta = total - (seen.get(key) ?? 0);
      if (delta > 0) counter.inc(labels, delta);
      seen.set(key, Math.max(total, seen.get(key) ?? 0));
    };
  };
  const mirrorAccepted = mirrorer();
  new Counter({
    name: 'radscreen_agent_readings_accepted_total',
    help: 'Readings that passed validation and entered the outbox',
    labelNames: ['device'],
    registers: [registry],
    collect() {
      for (const d of devices()) mirrorAccepted(this, { device: d.device }, d.accepted);
    },
  });
  const mirrorPublished = mirrorer();
  new Counter({
    name: 'radscreen_agent_readings_published_total',
    help: 'Readings the broker acknowledged',
    labelNames: ['device'],
    registers: [registry],
    collect() {
      for (const d of devices()) mirrorPublished(this, { device: d.device }, d.published);
    },
  });
  const mirrorRejects = mirrorer();
  new Counter({
    name: 'radscreen_agent_rejects_total',
    help: 'Frames, payloads and readings the agent refused, by device and stable error code',
    labelNames: ['device', 'code'],
    registers: [registry],
    collect() {
      for (const d of devices())
        for (const [code, n] of Object.entries(d.rejected)) mirrorRejects(this, { device: d.device, code }, n ?? 0);
    },
  });
  const mirrorLetters = mirrorer();
  new Counter({
    name: 'radscreen_agent_deadletters_total',
    help: 'Rejects published on radscreen/v1/deadletter (sent) or held back by the per-device rate limit (suppressed)',
    labelNames: ['device', 'outcome'],
    registers: [registry],
    collect() {
      for (const d of devices()) {
        mirrorLetters(this, { device: d.device, outcome: 'sent' }, d.deadLetters.sent);
        mirrorLetters(this, { device: d.device, outcome: 'suppressed' }, d.deadLetters.suppressed);
      }
    },
  });
  new Gauge({
    name: 'radscreen_agent_device_online',
    help: '1 while the device link is online, else 0',
    labelNames: ['device'],
    registers: [registry],
    collect() {
      for (const d of devices()) this.set({ device: d.device }, d.state === 'online' ? 1 : 0);
    },
  });
  return registry;
}
