import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';

/**
 * A stand-in for mqtt.js: records messages; acks after `ackMs`, or fails them while `failing`
 * (recording the failed ones too with `recordFailed`, for tests of what a re-send carries).
 */
export function fakeClient(ackMs = 1, recordFailed = false) {
  const ee = new EventEmitter() as EventEmitter & { connected: boolean; failing: boolean; messages: string[] };
  ee.connected = true;
  ee.failing = false;
  ee.messages = [];
  (ee as unknown as { publish: unknown }).publish = (_t: string, body: string, _o: unknown, cb: (e?: Error) => void) => {
    const fail = ee.failing;
    if (!fail || recordFailed) ee.messages.push(body);
    setTimeout(() => cb(fail ? new Error('connection closed') : undefined), ackMs);
  };
  return ee;
}
export const asClient = (c: ReturnType<typeof fakeClient>) => c as unknown as MqttClient;
