import { describe, expect, it } from 'vitest';
import type { IngestStats } from '../../src/ingest/consumer.ts';
import { assessHealth, ingestHealth } from '../../src/server/health-checks.ts';

/** The /healthz rules on the station's own data path: spool bound and InfluxDB taking writes. */
const base: IngestStats = {
  messages: 10,
  readings: 10,
  deadLettered: {},
  alarms: {},
  connected: true,
  writer: {
    written: 10,
    retries: 0,
    dropped: { full: 0, expired: 0 } as IngestStats['writer']['dropped'],
    buffered: 0,
    oldestAgeMs: 0,
    highWater: false,
    highWaterEvents: 0,
  },
};
const now = 1_800_000_000_000;

describe('ingestHealth', () => {
  it('says nothing while the spool drains and influxd takes writes', () => {
    expect(ingestHealth(base, now)).toEqual([]);
    // An error long ago, or with nothing waiting, is history, not a current fault.
    expect(
      ingestHealth(
        {
          ...base,
          writer: { ...base.writer, lastError: { code: 'RS_ERR_INFLUX_UNAVAILABLE', message: 'x', at: now - 60_000 }, buffered: 5 },
        },
        now,
      ),
    ).toEqual([]);
  });

  it('reports InfluxDB unreachable, a refusing InfluxDB, the spool above its bound and a lost broker', () => {
    const down = {
      ...base.writer,
      lastError: { code: 'RS_ERR_INFLUX_UNAVAILABLE' as const, message: 'ECONNREFUSED', at: now - 1000 },
      buffered: 42,
    };
    expect(ingestHealth({ ...base, writer: down }, now)).toEqual([
      { code: 'storage_not_writing', message: expect.stringMatching(/unreachable.*ECONNREFUSED.*42 points/) },
    ]);
    const refused = { ...base.writer, fault: { code: 'RS_ERR_INFLUX_AUTH' as const, message: '403 forbidden' } };
    expect(ingestHealth({ ...base, writer: refused }, now)[0]).toMatchObject({
      code: 'storage_not_writing',
      message: expect.stringMatching(/403/),
    });
    const full = { ...base.writer, highWater: true, buffered: 900_000, oldestAgeMs: 120_000 };
    expect(ingestHealth({ ...base, writer: full, connected: false }, now).map((r) => r.code)).toEqual([
      'spool_above_bound',
      'ingest_disconnected',
    ]);
  });

  it('assessHealth puts storage first and is ok only without reasons', () => {
    const verdict = assessHealth({ storage: { enabled: false, detail: 'no influx' }, devices: [], extra: [] });
    expect(verdict.status).toBe('degraded');
    expect(verdict.reasons.map((r) => r.code)).toEqual(['storage_off', 'no_device_online']);
  });
});
