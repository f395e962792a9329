import type { DeviceProfile } from '../../src/core/profile.ts';
import { createMessageSession } from '../../src/sessions/message-session.ts';
import { layoutFromOptions, XRAY_CHANNELS } from '../xray-parcel-scanner/channels.ts';
import { decodeXrayJson } from '../xray-parcel-scanner/json.ts';
import { type XrayOptions, XrayOptionsSchema } from '../xray-parcel-scanner/profile.ts';

/**
 * The X-ray parcel scanner behind a gateway that publishes the XRS content as JSON on MQTT
 * (devices/xray-parcel-scanner/README.md, "JSON form"). Same decoder, channels and rejects as
 * that family; only the transport differs. Read-only: nothing is published to the scanner.
 */
export const xrayParcelScannerMqtt: DeviceProfile<XrayOptions> = {
  id: 'xray-parcel-scanner-mqtt',
  vendor: 'radscreen',
  model: 'XRS JSON v1 over MQTT (scanner gateway)',
  kind: 'xray_scanner',
  tile: 'scanner',
  description: 'X-ray parcel scanner status and events as XRS JSON, one object per MQTT message on scanners/{device}/status.',
  link: { type: 'mqtt', topic: 'scanners/{device}/status' },
  channels: XRAY_CHANNELS,
  measurement: 'xray',
  // Three missed 1 s status messages, as for the serial form.
  staleAfterMs: 3_000,
  optionsSchema: XrayOptionsSchema,
  createSession(ctx) {
    const layout = layoutFromOptions(ctx.options);
    return createMessageSession(ctx, {
      maxBytes: 4096,
      decodeMessage: (payload, receivedAt) => decodeXrayJson(payload, receivedAt, layout),
    });
  },
};
