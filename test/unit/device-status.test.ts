import { describe, expect, it } from 'vitest';
import { statusDetail } from '../../src/agent/device-status.ts';
import { RadscreenError } from '../../src/core/errors.ts';
import type { LinkState } from '../../src/transports/link.ts';
import { createSerialLink } from '../../src/transports/serial-link.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The device status contract (docs/agent.md "Device status"): every `error` or `offline` status
 * carries a registered code and a one-sentence reason naming what failed.
 */
describe('device status detail', () => {
  it('fills in a code and a reason a link left out, and leaves other states alone', () => {
    expect(statusDetail('error', { error: 'EACCES' }, 'serial /dev/ttyUSB0 @ 9600')).toMatchObject({
      code: 'RS_ERR_PORT_OPEN',
      reason: 'serial /dev/ttyUSB0 @ 9600 could not be opened: EACCES',
    });
    expect(statusDetail('offline', {}, 'mqtt x')).toMatchObject({
      code: 'RS_ERR_PORT_LOST',
      reason: 'mqtt x went offline: the link was closed',
    });
    expect(statusDetail('offline', { code: 'RS_ERR_AGENT_DOWN', reason: 'stopped' }, 'x')).toMatchObject({
      code: 'RS_ERR_AGENT_DOWN',
      reason: 'stopped',
    });
    expect(statusDetail('online', { path: '/dev/x' }, 'x')).toEqual({ path: '/dev/x' });
  });

  it('a serial device selected by an absent USB id reports error with the ids in its reason', async () => {
    const states: { state: LinkState; detail: Record<string, unknown> }[] = [];
    const link = createSerialLink({
      path: async () => {
        throw new RadscreenError('RS_ERR_PORT_OPEN', 'no serial port matches USB 1a86:7523');
      },
      baudRate: 9600,
      noDataTimeoutMs: 1000,
      mockBinding: true,
      backoff: { initialMs: 50, maxMs: 100 },
    });
    link.open({ data: () => {}, state: (state, detail) => void states.push({ state, detail }) });
    await waitFor(() => states.some((s) => s.state === 'error'), { timeoutMs: 2000, describe: () => states });
    await link.close();
    const error = states.find((s) => s.state === 'error');
    expect(error?.detail.code).toBe('RS_ERR_PORT_OPEN');
    expect(String(error?.detail.reason)).toMatch(/selected by USB id could not be opened: no serial port matches USB 1a86:7523/);
    const closed = states.at(-1);
    expect(closed).toMatchObject({ state: 'offline', detail: { code: 'RS_ERR_AGENT_DOWN' } });
  });
});
