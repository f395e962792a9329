import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, inject, it } from 'vitest';
import { mqttJson } from '../../devices/mqtt-json/profile.ts';
import { runDevice } from '../../src/agent/device-runner.ts';
import { parseSessionOptions } from '../../src/core/profile.ts';
import type { DeviceLink, LinkHandlers } from '../../src/transports/link.ts';

/**
 * The one message an agent can have committed but not acknowledged when it dies (docs/agent.md
 * "When the PUBACK goes out"): the broker re-sends it with DUP set and the same packet id. The
 * restarted agent must acknowledge it without reading it again, or a device without its own clock
 * gets a second reading with a new receive time. A device that repeats a payload is still read.
 */
const services = inject('services');

/** A link the test drives by hand, as the MQTT link would: one data() call per message. */
function handLink(): { link: DeviceLink; deliver(payload: string, messageId: number, dup: boolean): void | Promise<void> } {
  let handlers: LinkHandlers | undefined;
  return {
    link: {
      description: 'hand-driven test link',
      open(h) {
        handlers = h;
        h.state('online', {});
      },
      write: async () => {},
      close: async () => {},
    },
    deliver: (payload, messageId, dup) => handlers?.data(Buffer.from(payload), { messageId, dup }),
  };
}

describe('agent restart with a message committed but not acknowledged', () => {
  it('acknowledges the broker re-delivery of the last committed message without a second reading', async () => {
    const dataDir = mkdtempSync(join(services.tmpDir, 'redelivery-'));
    const station = `rd${Date.now() % 1_000_000}`;
    const start = () => {
      const hand = handLink();
      const runner = runDevice({
        station,
        device: 'a1',
        profile: mqttJson,
        source: 'live',
        options: parseSessionOptions(mqttJson, { fields: { counts: { path: 'n', unit: 'counts' } } }),
        link: hand.link,
        mqttUrl: services.mqttUrl,
        dataDir,
        log: pino({ level: 'silent' }),
      });
      return { hand, runner };
    };

    const first = start();
    await first.hand.deliver('{"n": 1}', 41, false);
    await first.hand.deliver('{"n": 2}', 42, false);
    expect(first.runner.stats().accepted).toBe(2);
    // The agent dies here: message 42 is in the outbox, its PUBACK never left.
    await first.runner.stop();

    const second = start();
    await second.hand.deliver('{"n": 2}', 42, true);
    expect(second.runner.stats().accepted).toBe(0);
    // A different message re-sent under an old id, and a device repeating its payload, are read.
    await second.hand.deliver('{"n": 1}', 41, true);
    await second.hand.deliver('{"n": 2}', 43, false);
    expect(second.runner.stats().accepted).toBe(2);
    await second.runner.stop();
  });
});
