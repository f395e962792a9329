import { z } from 'zod';
import type { DeviceProfile } from '../../src/core/profile.ts';
import { createMessageSession } from '../../src/sessions/message-session.ts';
import { DOSE_TUBES, decodeSafecastJson, LND_7318_CPM_PER_USVH, SAFECAST_JSON_CHANNELS, type SafecastJsonOptions } from './decode.ts';

const OptionsSchema = z.strictObject({
  /** CPM per µSv/h of `dose_tube`; default 334 (LND 7317/7318 pancake, Cs-137, as Safecast uses). */
  sensitivity: z.number().positive().default(LND_7318_CPM_PER_USVH),
  /** Which tube's CPM becomes `dose_rate`; the sensitivity must be that tube's. */
  dose_tube: z.enum(DOSE_TUBES).default('lnd_7318u'),
});

/**
 * Fixed Safecast-style devices (nGeigie, Solarcast, Pointcast or a TTServe relay) publishing
 * one JSON object per MQTT message. Read-only: the agent subscribes and never publishes to them.
 */
export const safecastJson: DeviceProfile<z.output<typeof OptionsSchema>> = {
  id: 'safecast-json',
  vendor: 'Safecast',
  model: 'JSON telemetry (nGeigie / Solarcast / Pointcast, TTServe field names)',
  kind: 'dosimeter',
  description: 'Safecast JSON on MQTT: lnd_7318u/lnd_7318c/lnd_7128ec CPM, when_captured, location, battery; one object per message.',
  link: { type: 'mqtt', topic: 'safecast/{device}/measurements' },
  channels: SAFECAST_JSON_CHANNELS,
  measurement: 'radiation',
  // Fixed Safecast devices report every few minutes; 15 min without one is worth a look.
  staleAfterMs: 900_000,
  defaultSensitivity: LND_7318_CPM_PER_USVH,
  optionsSchema: OptionsSchema,
  createSession(ctx) {
    const o = ctx.options;
    const opts: SafecastJsonOptions = { sensitivity: o.sensitivity, doseTube: o.dose_tube };
    return createMessageSession(ctx, { decodeMessage: (payload, receivedAt) => decodeSafecastJson(payload, receivedAt, opts) });
  },
};
