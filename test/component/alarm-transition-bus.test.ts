import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import { createTransitionBus } from '../../src/alarms/transition-bus.ts';
import type { AlarmTransition } from '../../src/alarms/types.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Reading } from '../../src/core/reading.ts';
import { registerAlarmMetrics } from '../../src/server/alarm-metrics.ts';
import { createLiveState } from '../../src/server/live-state.ts';

const CONFIG = 'station: { id: st1 }\ndevices: [{ id: g1, profile: mightyohm-geiger, simulate: {} }]\n';

function reading(ts: number, doseRate: number): Reading {
  return {
    station: 'st1',
    device: 'g1',
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts,
    ts_source: 'agent',
    values: { cps: 1, cpm: 20, dose_rate: doseRate, mode: 'SLOW' },
    quality: 'good',
    source: 'simulated',
  };
}

/** An engine on a fresh bus with the server's real subscribers: live state (SSE) and metrics. */
function rig() {
  let now = 1_800_000_000_000;
  const warnings: { subscriber: string; kind: string }[] = [];
  const bus = createTransitionBus({ log: { warn: (o) => warnings.push(o as { subscriber: string; kind: string }) } });
  const config = parseConfig(CONFIG, { catalogue, env: {} });
  const engine = createAlarmEngine({
    now: () => now,
    transitions: bus,
    thresholds: { default: { threshold_usvh: 1, deadband_usvh: 0.2 } },
  });
  const state = createLiveState({ config, catalogue, engine, now: () => now });
  const registry = new Registry();
  registerAlarmMetrics(registry, engine, state);
  const sse: AlarmTransition[] = [];
  state.on('alarm', (t) => sse.push(t));
  const step = (ms: number) => {
    now += ms;
    return now;
  };
  return { engine, state, bus, registry, sse, warnings, step };
}

const counterValue = async (registry: Registry, name: string, labels: Record<string, string>) => {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const v = metric?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
};

describe('alarm transition bus', () => {
  it('hands every transition (readings, an operator action) to every subscriber, in order, once', async () => {
    const { engine, bus, registry, sse, step } = rig();
    const feed: AlarmTransition[] = [];
    bus.subscribe('mqtt-feed', (t) => feed.push(t));

    const raised = engine.evaluate(reading(step(1000), 2.5));
    expect(raised.map((t) => t.kind)).toEqual(['raised']);
    const id = (raised[0] as AlarmTransition).alarm.id;
    step(1000);
    const acked = engine.acknowledge(id, { user: 'op' });
    const cleared = engine.evaluate(reading(step(1000), 0.1));
    expect(cleared.map((t) => t.kind)).toEqual(['cleared', 'closed']);

    const all = [...raised, ...acked, ...cleared];
    expect(sse).toEqual(all);
    expect(feed).toEqual(all);
    expect(await counterValue(registry, 'radscreen_alarm_transitions_total', { kind: 'raised' })).toBe(1);
    expect(await counterValue(registry, 'radscreen_alarm_transitions_total', { kind: 'closed' })).toBe(1);
    expect(bus.subscribers()).toEqual(['live-state', 'metrics', 'mqtt-feed']);
  });

  it('a refused operator action emits nothing', () => {
    const { engine, sse, step } = rig();
    const [t] = engine.evaluate(reading(step(1000), 2.5));
    const id = (t as AlarmTransition).alarm.id;
    engine.acknowledge(id, { user: 'op' });
    expect(() => engine.acknowledge(id, { user: 'op' })).toThrow();
    expect(sse.map((x) => x.kind)).toEqual(['raised', 'acknowledged']);
  });

  it('a subscriber that throws is logged and counted, and the others still get every transition', async () => {
    const { engine, bus, registry, sse, warnings, step } = rig();
    const after: AlarmTransition[] = [];
    bus.subscribe('broken', () => {
      throw new Error('console stream gone');
    });
    bus.subscribe('mqtt-feed', (t) => after.push(t));

    const raised = engine.evaluate(reading(step(1000), 2.5));
    const cleared = engine.evaluate(reading(step(1000), 0.1));

    expect(raised.length + cleared.length).toBe(2);
    expect(sse).toEqual([...raised, ...cleared]);
    expect(after).toEqual([...raised, ...cleared]);
    expect(bus.failures()).toEqual({ broken: 2 });
    expect(warnings.map((w) => [w.subscriber, w.kind])).toEqual([
      ['broken', 'raised'],
      ['broken', 'cleared'],
    ]);
    expect(await counterValue(registry, 'radscreen_alarm_subscriber_failures_total', { subscriber: 'broken' })).toBe(2);
  });

  it('an SSE listener that throws does not keep the transition from the MQTT feed', () => {
    const { engine, state, bus, step } = rig();
    state.on('alarm', () => {
      throw new Error('slow client');
    });
    const feed: AlarmTransition[] = [];
    bus.subscribe('mqtt-feed', (t) => feed.push(t));
    const raised = engine.evaluate(reading(step(1000), 2.5));
    expect(feed).toEqual(raised);
    expect(bus.failures()).toEqual({ 'live-state': 1 });
  });

  it('an unsubscribed subscriber gets nothing more', () => {
    const { engine, bus, step } = rig();
    const got: AlarmTransition[] = [];
    const leave = bus.subscribe('gone', (t) => got.push(t));
    engine.evaluate(reading(step(1000), 2.5));
    leave();
    engine.evaluate(reading(step(1000), 0.1));
    expect(got.map((t) => t.kind)).toEqual(['raised']);
  });
});
