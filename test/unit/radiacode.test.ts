import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeDataBuf } from '../../devices/radiacode/databuf.ts';
import { radiacode } from '../../devices/radiacode/profile.ts';
import { COMMAND, encodeRequest, isReject, parseResponseBody, parseVirtualString, VS } from '../../devices/radiacode/protocol.ts';
import { createRadiacodeSession } from '../../devices/radiacode/session.ts';
import { decodeSpectrum } from '../../devices/radiacode/spectrum.ts';
import { seededRandom } from '../../simulators/physics.ts';
import { compressCounts } from '../../simulators/radiacode.ts';
import { ERROR_CODES } from '../../src/core/errors.ts';
import type { SessionContext } from '../../src/core/profile.ts';
import { feedInChunks, harness } from '../support/session-harness.ts';

/** Golden frames (devices/radiacode/fixtures/frames.json: layouts from cdump/radiacode and docs/protocols.md §5). */
interface Golden {
  requests: { name: string; command: number; seq: number; args: string; hex: string }[];
  responses: {
    name: string;
    hex: string;
    vs: number;
    received_at?: number;
    format?: number;
    expected: { readings?: unknown[]; rejects?: string[]; spectrum?: unknown; reject?: string };
  }[];
}
const golden = JSON.parse(readFileSync(new URL('../../devices/radiacode/fixtures/frames.json', import.meta.url), 'utf8')) as Golden;

/** A whole reply frame → the virtual string's data (length prefix, echoed header, retcode, length). */
function virtualStringOf(frameHex: string, id: number) {
  const frame = Buffer.from(frameHex, 'hex');
  expect(frame.readUInt32LE(0)).toBe(frame.length - 4);
  const body = parseResponseBody(frame.subarray(4));
  if (isReject(body)) return body;
  expect(body.command).toBe(COMMAND.RD_VIRT_STRING);
  return parseVirtualString(id, body.payload);
}

describe('RadiaCode framing against the documented byte layouts', () => {
  for (const r of golden.requests)
    it(`request: ${r.name}`, () => {
      expect(encodeRequest(r.command, r.seq, Buffer.from(r.args, 'hex')).toString('hex')).toBe(r.hex);
    });

  for (const r of golden.responses)
    it(`reply: ${r.name}`, () => {
      const data = virtualStringOf(r.hex, r.vs);
      if (r.vs === VS.DATA_BUF) {
        const out = isReject(data) ? { readings: [], rejects: [data] } : decodeDataBuf(data, r.received_at as number);
        expect(out.readings).toEqual(r.expected.readings);
        expect(out.rejects.map((x) => x.code)).toEqual(r.expected.rejects);
      } else {
        if (isReject(data)) throw new Error(data.message);
        const s = decodeSpectrum(data, r.format as number);
        if (r.expected.reject) expect(isReject(s) && s.code).toBe(r.expected.reject);
        else expect(s).toEqual(r.expected.spectrum);
      }
    });

  it("the simulator's format-1 encoder round-trips through the decoder (random spectra, every width code)", () => {
    const rand = seededRandom(11);
    for (let k = 0; k < 200; k++) {
      const scale = [0, 3, 300, 70_000, 20_000_000][k % 5] as number;
      const counts = Array.from({ length: 1024 }, () => (rand() < 0.3 ? 0 : Math.floor(rand() * scale)));
      const head = Buffer.alloc(16);
      head.writeUInt32LE(k, 0);
      const s = decodeSpectrum(Buffer.concat([head, compressCounts(counts)]), 1);
      if (isReject(s)) throw new Error(s.message);
      expect(s.counts).toEqual(counts);
    }
  });
});

/** A scripted device: answers each request with the payload `reply` gives for it, echoing the header. */
function scripted(reply: (command: number, args: Buffer) => Buffer | undefined, tamper?: (frame: Buffer) => Buffer) {
  const rejects: string[] = [];
  const readings: unknown[] = [];
  const written: Buffer[] = [];
  const warnings: string[] = [];
  let session: ReturnType<typeof createRadiacodeSession> | undefined;
  const ctx: SessionContext = {
    now: () => 1_700_000_000_000,
    async write(b) {
      const req = Buffer.from(b);
      written.push(req);
      const payload = reply(req.readUInt16LE(4), req.subarray(8));
      if (!payload) return;
      const frame = Buffer.concat([Buffer.alloc(4), req.subarray(4, 8), payload]);
      frame.writeUInt32LE(frame.length - 4, 0);
      const out = tamper ? tamper(frame) : frame;
      setImmediate(() => feedInChunks(session as ReturnType<typeof createRadiacodeSession>, out, [1, 3, 7, 64]));
    },
    emit: (r) => void readings.push(r),
    reject: (r) => void rejects.push(r.code),
    options: {},
    log: { debug() {}, info() {}, warn: (_o, msg) => void warnings.push(String(msg)) },
  };
  session = createRadiacodeSession(ctx, { pollIntervalMs: 5, spectrumIntervalMs: 0, timeoutMs: 100 });
  return { session, rejects, readings, written, warnings };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

const dataBufFrame = golden.responses[0] as Golden['responses'][number];
/** The DATA_BUF virtual-string payload of the first golden reply (retcode, length, records). */
const dataBufPayload = Buffer.from(dataBufFrame.hex, 'hex').subarray(8);
const okString = (s: string) => Buffer.concat([Buffer.from([1, 0, 0, 0, s.length, 0, 0, 0]), Buffer.from(s, 'latin1')]);

describe('RadiaCode session (scripted device, replies in odd chunks)', () => {
  const device = (command: number, args: Buffer) => {
    if (command === COMMAND.SET_EXCHANGE) return Buffer.alloc(0);
    if (command === COMMAND.GET_VERSION) return Buffer.from('0100040000' + '06000400' + '00', 'hex'); // boot 4.1, target 4.6
    if (command !== COMMAND.RD_VIRT_STRING) return undefined;
    const id = args.readUInt32LE(0);
    if (id === VS.DATA_BUF) return dataBufPayload;
    if (id === VS.SERIAL_NUMBER) return okString('RC-102-000115');
    if (id === VS.CONFIGURATION) return okString('DeviceParams\nSpecFormatVersion=1\n');
    return undefined;
  };

  it('sends SET_EXCHANGE first, then reads only (GET_VERSION, RD_VIRT_STRING), warns about old firmware, emits DATA_BUF readings', async () => {
    const { session, rejects, readings, written, warnings } = scripted(device);
    session.start?.();
    await until(() => readings.length >= 4);
    session.stop();
    expect(written[0]?.toString('hex')).toBe('080000000700008001ff12ff');
    expect(written[1]?.readUInt16LE(4)).toBe(COMMAND.GET_VERSION);
    expect(written.slice(2).every((w) => w.readUInt16LE(4) === COMMAND.RD_VIRT_STRING)).toBe(true);
    expect(warnings.filter((w) => w.includes('older than 4.8'))).toHaveLength(1);
    expect(written.map((w) => w[7])).toEqual(written.map((_, i) => 0x80 + (i % 32)));
    expect(readings.slice(0, 2)).toEqual(dataBufFrame.expected.readings);
    expect(rejects).toEqual(['RS_ERR_DEVICE_TIMEOUT']); // ENERGY_CALIB, which this device does not answer
  });

  it('refuses a reply whose header echoes another sequence byte (RS_ERR_FRAME_UNKNOWN), and goes on', async () => {
    const { session, rejects, readings } = scripted(device, (f) => {
      const copy = Buffer.from(f);
      if (copy.readUInt16LE(4) === COMMAND.RD_VIRT_STRING && copy.readUInt32LE(8) === 1 && copy.length > 60) copy[7] = 0x9f;
      return copy;
    });
    session.start?.();
    await until(() => rejects.filter((c) => c === 'RS_ERR_FRAME_UNKNOWN').length >= 2);
    session.stop();
    expect(rejects.filter((c) => c === 'RS_ERR_FRAME_UNKNOWN').length).toBeGreaterThanOrEqual(2);
    expect(readings).toEqual([]);
  });

  it('refuses an absurd length prefix (RS_ERR_FRAME_OVERSIZE) instead of waiting for it', async () => {
    const { session, rejects } = scripted(device, (f) => {
      const copy = Buffer.from(f);
      copy.writeUInt32LE(0x7fff_ffff, 0);
      return copy;
    });
    session.start?.();
    await until(() => rejects.length >= 1);
    session.stop();
    expect(rejects[0]).toBe('RS_ERR_FRAME_OVERSIZE');
  });

  it('logs bytes that arrive with no request outstanding, never decodes them', () => {
    const h = harness(radiacode);
    let logged = 0;
    h.ctx.log.debug = () => void logged++;
    h.session.push(Buffer.from(dataBufFrame.hex, 'hex'));
    expect(logged).toBe(1);
    expect(h.readings).toEqual([]);
  });
});

describe('RadiaCode decoders on mutated frames', () => {
  it('10 000 mutations of the golden payloads: no throw, every reject has a registered code, values finite', () => {
    const rand = seededRandom(0xdecade);
    const seeds = golden.responses.map((r) => Buffer.from(r.hex, 'hex').subarray(16));
    for (let n = 0; n < 10_000; n++) {
      const seed = Buffer.from(seeds[Math.floor(rand() * seeds.length)] as Buffer);
      for (let k = 0; k < 1 + Math.floor(rand() * 4); k++)
        if (seed.length) seed[Math.floor(rand() * seed.length)] = Math.floor(rand() * 256);
      const cut = rand() < 0.3 ? seed.subarray(0, Math.floor(rand() * seed.length)) : seed;
      const { readings, rejects } = decodeDataBuf(cut, 1_700_000_000_000);
      for (const r of rejects) expect(r.code in ERROR_CODES).toBe(true);
      for (const r of readings) for (const v of Object.values(r.values)) expect(Number.isFinite(v)).toBe(true);
      for (const format of [0, 1]) {
        const s = decodeSpectrum(cut, format);
        if (isReject(s)) expect(s.code in ERROR_CODES).toBe(true);
        else expect(s.counts.every((c) => Number.isInteger(c) && c >= 0)).toBe(true);
      }
    }
  });
});
