import type { MqttClient } from 'mqtt';
import { DEADLETTER_TOPIC, type DeadLetter } from '../core/contract.ts';
import type { ErrorCode } from '../core/errors.ts';
import { createRateLimiter } from '../queue/rate-limiter.ts';

export interface DeadLettersOptions {
  client: MqttClient;
  /** Put in each letter's `topic`: the device's readings topic, which names station and device. */
  topic: string;
  /** Most letters per second for this device (default 20); the excess is counted, not sent. */
  ratePerSec?: number;
  now?: () => number;
}

/**
 * The agent's dead-letter policy (docs/agent.md "Dead letters"): every payload or reading the
 * agent rejects — a frame its decoder refused, a reading outside its channel's range, a
 * timestamp outside the plausibility window — is published on `radscreen/v1/deadletter`
 * (DeadLetterSchema) with its stable code, QoS 1, not retained. The caller counts every reject
 * per device and code; this module only sends. A device spewing garbage must not flood the bus,
 * so letters are rate-limited per device and the ones held back are counted as `suppressed`.
 */
export function createDeadLetters(opts: DeadLettersOptions) {
  const now = opts.now ?? Date.now;
  const limiter = createRateLimiter(opts.ratePerSec ?? 20, now);
  const counts = { sent: 0, suppressed: 0 };
  return {
    /** Publishes one letter unless this device is over its rate. `payload` is kept whole, base64. */
    send(code: ErrorCode, reason: string, payload: Buffer): void {
      if (limiter.allowance(1) < 1) {
        counts.suppressed++;
        return;
      }
      limiter.spend(1);
      counts.sent++;
      const letter: DeadLetter = { v: 1, code, reason, topic: opts.topic, ts: now(), payload_b64: payload.toString('base64') };
      // mqtt.js queues it while the connection is down; the count above is what /metrics shows.
      opts.client.publish(DEADLETTER_TOPIC, JSON.stringify(letter), { qos: 1 }, () => {});
    },
    stats: () => ({ ...counts }),
  };
}
export type DeadLetters = ReturnType<typeof createDeadLetters>;
