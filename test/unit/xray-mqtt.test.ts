import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { XRAY_CHANNELS } from '../../devices/xray-parcel-scanner/channels.ts';
import { xrayParcelScannerMqtt } from '../../devices/xray-parcel-scanner-mqtt/profile.ts';
import { harness } from '../support/session-harness.ts';

type Fixture = {
  received_at: number;
  cases: { note: string; payload: string; values: Record<string, unknown> }[];
  rejected: { note: string; options?: Record<string, unknown>; payload: string; code: string }[];
};
const fx = JSON.parse(
  readFileSync(new URL('../../devices/xray-parcel-scanner-mqtt/fixtures/messages.json', import.meta.url), 'utf8'),
) as Fixture;

describe('xray-parcel-scanner-mqtt: XRS JSON, one object per MQTT message', () => {
  it('shares the serial family’s channels', () => {
    expect(xrayParcelScannerMqtt.channels).toBe(XRAY_CHANNELS);
    expect(xrayParcelScannerMqtt.link).toEqual({ type: 'mqtt', topic: 'scanners/{device}/status' });
  });

  it.each(fx.cases.map((c) => [c.note, c] as const))('%s', (_note, c) => {
    const h = harness(xrayParcelScannerMqtt, {}, () => fx.received_at);
    h.session.push(Buffer.from(c.payload));
    expect(h.rejects).toEqual([]);
    expect(h.readings).toEqual([{ ts: fx.received_at, ts_source: 'agent', values: c.values, quality: 'good' }]);
  });

  it.each(fx.rejected.map((c) => [c.note, c] as const))('rejects %s', (_note, c) => {
    const h = harness(xrayParcelScannerMqtt, c.options ?? {}, () => fx.received_at);
    h.session.push(Buffer.from(c.payload));
    expect(h.readings).toEqual([]);
    expect(h.rejects.map((r) => r.code)).toEqual([c.code]);
  });

  it('rejects an oversized message unread', () => {
    const h = harness(xrayParcelScannerMqtt);
    h.session.push(Buffer.alloc(5000, 0x20));
    expect(h.rejects.map((r) => r.code)).toEqual(['RS_ERR_FRAME_OVERSIZE']);
  });
});
