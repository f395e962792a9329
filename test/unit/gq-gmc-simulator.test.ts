import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeHistory } from '../../devices/gq-gmc/decode.ts';
import { createGqGmcSimulatorFor } from '../../simulators/gq-gmc.ts';
import type { GqSimModel } from '../../simulators/gq-gmc-device.ts';

/** Drives a simulator directly: commands in, raw reply bytes out. */
function drive(model: GqSimModel) {
  const out: Buffer[] = [];
  let send: ((b: Buffer) => void) | undefined;
  const sim = createGqGmcSimulatorFor({ model })(
    { write: (b) => out.push(Buffer.from(b)), onData: (l) => (send = l) },
    { background_usvh: 0.2, events: [], seed: 1, tick_ms: 1000 },
  );
  sim.start();
  return {
    sim,
    /** What the simulator wrote since the last ask or drain. */
    drain(): string {
      const hex = Buffer.concat(out).toString('hex');
      out.length = 0;
      return hex;
    },
    ask(cmd: Buffer | string): string {
      out.length = 0;
      send?.(typeof cmd === 'string' ? Buffer.from(cmd, 'latin1') : cmd);
      return Buffer.concat(out).toString('hex');
    },
  };
}

describe('GQ GMC simulator, byte-exact per docs/protocols.md §1.9', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2023, 10, 10, 16, 46, 54));
  });
  afterEach(() => vi.useRealTimers());

  it('answers fixed-length replies per model, without terminators', () => {
    const gmc320 = drive('GMC-320');
    expect(gmc320.ask('<GETVER>>')).toBe(Buffer.from('GMC-320Re 4.26').toString('hex'));
    expect(gmc320.ask('<GETSERIAL>>')).toBe('f48800671c42c2');
    expect(gmc320.ask('<GETDATETIME>>')).toBe('170b0a102e36aa');
    expect(gmc320.ask('<GETVOLT>>')).toBe('2a');
    expect(gmc320.ask('<GETCPM>>')).toHaveLength(4);
    expect(gmc320.ask('<GETCFG>>')).toHaveLength(512);
    const gmc500 = drive('GMC-500+');
    expect(gmc500.ask('<GETCPM>>')).toHaveLength(8);
    expect(gmc500.ask('<GETVOLT>>')).toBe('342e307600');
    expect(gmc500.ask('<GETCFG>>')).toHaveLength(1024);
    expect(drive('GMC-800').ask('<GETVOLT>>')).toBe('');
    gmc320.sim.stop();
    gmc500.sim.stop();
  });

  it('matches names by prefix, longest first, and ignores unknown commands and noise', () => {
    const d = drive('GMC-500+');
    expect(d.ask('<GETCPMXYZabc>>')).toHaveLength(8);
    expect(d.ask('<GETCPMH>>')).toBe('00000000');
    expect(d.ask('<NOSUCH>>')).toBe('');
    expect(d.ask('junk<GETSER')).toBe('');
    expect(d.ask('IAL>>')).toBe('303021572157f6');
    d.sim.stop();
  });

  it('reads raw parameters by length, even when they contain ">"', () => {
    const d = drive('GMC-320');
    // §1.10: SETDATETIME for 2024-01-08 17:54:57, then the clock shows it.
    expect(d.ask(Buffer.from('3C534554444154455449 4D45180108113639 3E3E'.replace(/ /g, ''), 'hex'))).toBe('aa');
    expect(d.ask('<GETDATETIME>>')).toBe('180108113639aa');
    expect(d.ask(Buffer.from([...Buffer.from('<SETTIMESS'), 0x05, ...Buffer.from('>>')]))).toBe('aa');
    expect(d.ask('<GETDATETIME>>')).toBe('180108113605aa');
    // SPIR length 0x3E3E would end a naive `>>` framer early; read by length it is 15934 bytes.
    expect(d.ask(Buffer.from([...Buffer.from('<SPIR'), 0, 0, 0, 0x3e, 0x3e, ...Buffer.from('>>')]))).toHaveLength(2 * 0x3e3e);
    d.sim.stop();
  });

  it('streams heartbeat samples each tick and logs history that the SPIR decoder reads back', async () => {
    const d = drive('GMC-320');
    expect(d.ask('<HEARTBEAT1>>')).toBe('');
    await vi.advanceTimersByTimeAsync(3000);
    // Three 2-byte samples, reserved bits 0; 0.2 µSv/h × 153.8 / 60 ≈ 0.5 CPS.
    const beats = d.drain();
    expect(beats).toMatch(/^(00[0-9a-f]{2}){3}$/);
    expect(d.ask('<HEARTBEAT0>>')).toBe('');
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    expect(d.drain()).toBe('');
    const spir = Buffer.from(d.ask(Buffer.from([...Buffer.from('<SPIR'), 0, 0, 0, 0, 64, ...Buffer.from('>>')])), 'hex');
    expect(spir).toHaveLength(64);
    const history = decodeHistory(spir, { timeZone: 'UTC' });
    expect(history.tags.map((t) => [t.local, t.mode])).toEqual([['2023-11-10 16:46:54', 2]]);
    expect(history.samples.map((s) => s.local)).toEqual(['2023-11-10 16:46:54', '2023-11-10 16:47:54']);
    d.sim.stop();
  });
});
