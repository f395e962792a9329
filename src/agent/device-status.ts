import type { DeviceState } from '../core/contract.ts';

/**
 * The device status contract (docs/agent.md "Device status"): whenever the agent publishes a
 * device as `error` or `offline`, `detail.code` is a registered RS_ERR_ code and `detail.reason`
 * one sentence a technician can act on (which path, USB id or broker, and why). The health view
 * and the device-fault alarm show `reason` as it is.
 *
 * Links give their own `code` and `reason` (serial-link.ts, mqtt-link.ts); this fills in what a
 * link left out, so no error or offline status ever goes out without both.
 */
export function statusDetail(state: DeviceState, linkDetail: Record<string, unknown>, linkDescription: string): Record<string, unknown> {
  if (state !== 'error' && state !== 'offline') return linkDetail;
  const code = typeof linkDetail.code === 'string' ? linkDetail.code : state === 'error' ? 'RS_ERR_PORT_OPEN' : 'RS_ERR_PORT_LOST';
  let reason = typeof linkDetail.reason === 'string' ? linkDetail.reason : undefined;
  if (!reason) {
    const why = typeof linkDetail.error === 'string' ? linkDetail.error : 'the link was closed';
    reason = state === 'error' ? `${linkDescription} could not be opened: ${why}` : `${linkDescription} went offline: ${why}`;
  }
  return { ...linkDetail, code, reason };
}
