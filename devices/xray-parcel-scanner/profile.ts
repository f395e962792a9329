import { z } from 'zod';
import type { DeviceProfile } from '../../src/core/profile.ts';
import { createLineSession } from '../../src/sessions/line-session.ts';
import { layoutFromOptions, MAX_DOORS, MAX_PANELS, XRAY_CHANNELS } from './channels.ts';
import { decodeXrayLine } from './decode.ts';

/** The installation's layout; shared with the MQTT (JSON) form of this family. */
export const XrayOptionsSchema = z.strictObject({
  /** Doors the installation has; frames reporting another count are rejected (a miswired gateway). */
  doors: z.int().min(1).max(MAX_DOORS).optional(),
  /** Access panels the installation has; same rule. */
  panels: z.int().min(0).max(MAX_PANELS).optional(),
});

/** Validated options of an X-ray scanner entry (see XrayOptionsSchema). */
export type XrayOptions = z.output<typeof XrayOptionsSchema>;

/**
 * Conveyor X-ray parcel scanner speaking radscreen's XRS line protocol (README.md): status
 * once a second, an event line on every change. Output only; the agent never writes to it.
 */
export const xrayParcelScanner: DeviceProfile<XrayOptions> = {
  id: 'xray-parcel-scanner',
  vendor: 'radscreen',
  model: 'XRS line protocol v1 (parcel scanner or PLC gateway)',
  kind: 'xray_scanner',
  tile: 'scanner',
  description: 'X-ray parcel scanner status and events as $XRS checksummed ASCII lines at 115200 8N1; output only.',
  link: { type: 'serial', baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 },
  channels: XRAY_CHANNELS,
  measurement: 'xray',
  // Three missed 1 s status lines: long enough for a busy gateway, short enough for an operator.
  staleAfterMs: 3_000,
  optionsSchema: XrayOptionsSchema,
  createSession(ctx) {
    const layout = layoutFromOptions(ctx.options);
    return createLineSession(ctx, {
      delimiter: '\n',
      maxLineBytes: 256,
      decodeLine: (line) => decodeXrayLine(line, ctx.now(), layout),
    });
  },
};
