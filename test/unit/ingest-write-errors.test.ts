import { describe, expect, it } from 'vitest';
import { classifyNetworkError, classifyWriteResponse, computeBackoffMs } from '../../src/ingest/write-errors.ts';

const err = (msg: string) => JSON.stringify({ error: msg });

describe('classifyWriteResponse', () => {
  it('accepts 2xx', () => {
    expect(classifyWriteResponse(204, '')).toEqual({ kind: 'ok' });
  });

  it('drops 400 bad data with a reason taken from influxd’s message', () => {
    expect(classifyWriteResponse(400, err('partial write: points beyond retention policy dropped=1'))).toMatchObject({
      kind: 'drop',
      reason: 'retention',
      code: 'RS_ERR_INFLUX_BAD_DATA',
      droppedPoints: 1,
    });
    expect(classifyWriteResponse(400, err('partial write: field type conflict: input field "f"'))).toMatchObject({
      kind: 'drop',
      reason: 'type_conflict',
    });
    expect(classifyWriteResponse(400, err("unable to parse 'x y': invalid field format"))).toMatchObject({
      kind: 'drop',
      reason: 'bad_data',
    });
    expect(classifyWriteResponse(422, 'nope')).toMatchObject({ kind: 'drop', reason: 'rejected', message: 'HTTP 422: nope' });
  });

  it('keeps data on 401/403 and on a missing database, as a service fault', () => {
    expect(classifyWriteResponse(401, err('authorization failed'))).toMatchObject({ kind: 'fault', code: 'RS_ERR_INFLUX_AUTH' });
    expect(classifyWriteResponse(403, '')).toMatchObject({ kind: 'fault', code: 'RS_ERR_INFLUX_AUTH' });
    expect(classifyWriteResponse(404, err('database not found: "x"'))).toMatchObject({ kind: 'fault', code: 'RS_ERR_INFLUX_UNAVAILABLE' });
  });

  it('retries 429 and 5xx, honouring Retry-After seconds', () => {
    expect(classifyWriteResponse(500, err('engine: error syncing wal'))).toEqual({
      kind: 'retry',
      code: 'RS_ERR_INFLUX_UNAVAILABLE',
      message: 'HTTP 500: engine: error syncing wal',
    });
    expect(classifyWriteResponse(503, '')).toMatchObject({ kind: 'retry' });
    expect(classifyWriteResponse(429, '', '3')).toMatchObject({ kind: 'retry', retryAfterMs: 3000 });
  });

  it('splits a 413 body', () => {
    expect(classifyWriteResponse(413, err('Request Entity Too Large'))).toMatchObject({ kind: 'split' });
  });

  it('retries network errors', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(classifyNetworkError(e)).toMatchObject({ kind: 'retry', message: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1' });
  });
});

describe('computeBackoffMs', () => {
  it('doubles from the base, caps at the maximum and jitters within [half, full]', () => {
    expect(computeBackoffMs(0, 200, 10_000, () => 1)).toBe(200);
    expect(computeBackoffMs(0, 200, 10_000, () => 0)).toBe(100);
    expect(computeBackoffMs(3, 200, 10_000, () => 1)).toBe(1600);
    expect(computeBackoffMs(20, 200, 10_000, () => 1)).toBe(10_000);
    expect(computeBackoffMs(20, 200, 10_000, () => 0)).toBe(5000);
  });
});
