import { describe, expect, it } from 'vitest';
import type { IngestStats } from '../../src/ingest/consumer.ts';
import { createDataPathMetrics } from '../../src/server/metrics.ts';

const stats = (written: number, full: number): IngestStats => ({
  messages: 3,
  readings: 30,
  deadLettered: {},
  refused: { RS_ERR_TS_FUTURE: written },
  connected: true,
  alarms: { spool_high_water: 1 },
  writer: {
    written,
    retries: 2,
    buffered: 7,
    oldestAgeMs: 1500,
    highWater: true,
    highWaterEvents: 1,
    dropped: { bad_data: 0, retention: 0, type_conflict: 0, too_large: 0, rejected: 0, full, expired: 0 },
  },
});

describe('data-path metrics', () => {
  it('exposes spool depth, oldest age, writes, retries and drops per reason in Prometheus text format', async () => {
    let current = stats(10, 0);
    const registry = createDataPathMetrics({ ingest: () => current, devices: () => [{ device: 'g1', queued: 4 } as never] });
    await registry.metrics();
    current = stats(25, 5);
    const text = await registry.metrics();
    expect(text).toContain('radscreen_ingest_spool_depth_points 7');
    expect(text).toContain('radscreen_ingest_refused_readings_total{code="RS_ERR_TS_FUTURE"} 25');
    expect(text).toContain('radscreen_ingest_spool_oldest_age_seconds 1.5');
    expect(text).toContain('radscreen_ingest_points_written_total 25');
    expect(text).toContain('radscreen_ingest_write_retries_total 2');
    expect(text).toContain('radscreen_ingest_points_dropped_total{reason="full"} 5');
    expect(text).toContain('radscreen_ingest_service_alarms_total{kind="spool_high_water"} 1');
    expect(text).toContain('radscreen_agent_outbox_depth_readings{device="g1"} 4');
  });
});
