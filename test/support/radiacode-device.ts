import { expect } from 'vitest';
import {
  COMMAND,
  encodeRequest,
  isReject,
  parseResponseBody,
  parseVirtualString,
  readStringArgs,
  VS,
} from '../../devices/radiacode/protocol.ts';
import { decodeSpectrum, type RadiacodeSpectrum } from '../../devices/radiacode/spectrum.ts';
import { createRadiacodeSimulator } from '../../simulators/radiacode.ts';
import type { SourceNuclide } from '../../simulators/radiacode-physics.ts';
import type { Clock } from '../../src/core/clock.ts';
import type { DoseScenario } from '../../src/core/simulator.ts';

/**
 * The RadiaCode simulator on a synchronous wire, its device seconds ticked by hand: `advance(n)`
 * runs n device seconds, `spectrum()` reads SPECTRUM through the real framing and decoders.
 */

export function manualClock() {
  const fns: (() => void)[] = [];
  const clock: Clock = {
    now: () => 0,
    setInterval: (fn) => fns.push(fn),
    clearInterval() {},
    setTimeout: () => undefined,
    clearTimeout() {},
  };
  return {
    clock,
    advance: (seconds: number) => {
      for (let i = 0; i < seconds; i++) for (const f of fns) f();
    },
  };
}

/** A simulator on a synchronous wire: `ask` sends one request and returns the reply frame. */
export function device(scenario: Omit<DoseScenario, 'clock' | 'tick_ms'>, source?: SourceNuclide) {
  const { clock, advance } = manualClock();
  let listener: (b: Buffer) => void = () => {};
  let last: Buffer | undefined;
  const sim = createRadiacodeSimulator(
    {
      write: (b) => {
        last = b;
      },
      onData: (l) => {
        listener = l;
      },
    },
    { ...scenario, tick_ms: 1000, clock },
  );
  if (source) sim.setSource(source);
  sim.start();
  let n = 0;
  const ask = (command: number, args?: Buffer): Buffer => {
    last = undefined;
    const seq = 0x80 + (n++ % 32);
    listener(encodeRequest(command, seq, args));
    if (!last) throw new Error('no reply');
    const frame = last as Buffer;
    expect(frame.readUInt32LE(0)).toBe(frame.length - 4);
    const body = parseResponseBody(frame.subarray(4));
    if (isReject(body)) throw new Error(body.message);
    expect([body.command, body.seq]).toEqual([command, seq]);
    return body.payload;
  };
  const spectrum = (): RadiacodeSpectrum => {
    const data = parseVirtualString(VS.SPECTRUM, ask(COMMAND.RD_VIRT_STRING, readStringArgs(VS.SPECTRUM)));
    if (isReject(data)) throw new Error(data.message);
    const s = decodeSpectrum(data, 1);
    if (isReject(s)) throw new Error(s.message);
    return s;
  };
  return { sim, advance, ask, spectrum };
}
