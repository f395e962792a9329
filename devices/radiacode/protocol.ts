import { type Reject, reject } from '../../src/core/errors.ts';

/**
 * RadiaCode 10x framing (README.md §2, from cdump/radiacode): every request and every response is
 * `u32 LE length` + body, the length counting the body only. A request body is `u16 LE command`,
 * `u8 0`, `u8 seq` (0x80 + n mod 32), then the arguments; the response body echoes those four
 * header bytes, then its payload. Pure functions: no I/O, no clock.
 */

export const COMMAND = {
  GET_STATUS: 0x0005,
  SET_EXCHANGE: 0x0007,
  GET_VERSION: 0x000a,
  GET_SERIAL: 0x000b,
  RD_VIRT_SFR: 0x0824,
  WR_VIRT_SFR: 0x0825,
  RD_VIRT_STRING: 0x0826,
  SET_TIME: 0x0a04,
} as const;

/** Virtual string ids read with RD_VIRT_STRING. */
export const VS = {
  CONFIGURATION: 0x002,
  SERIAL_NUMBER: 0x008,
  DATA_BUF: 0x100,
  SPECTRUM: 0x200,
  ENERGY_CALIB: 0x202,
  SPEC_ACCUM: 0x205,
} as const;

/** Arguments of the first request of every session (SET_EXCHANGE), as the public library sends them. */
export const EXCHANGE_ARGS = Buffer.from([0x01, 0xff, 0x12, 0xff]);

/**
 * Largest frame body accepted. The biggest real reply is a plain (format 0) spectrum: 16 bytes of
 * header + 1024 × 4 bytes + 12 bytes of RD_VIRT_STRING framing ≈ 4.1 KiB; 64 KiB leaves room for
 * a 16k-channel instrument and stops a garbage length from making the session wait for 4 GiB.
 */
export const MAX_BODY_BYTES = 65_536;

/** Sequence byte of the n-th request of a session. */
export const seqByte = (n: number): number => 0x80 + (n % 32);

/** One whole request frame. */
export function encodeRequest(command: number, seq: number, args: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(8 + args.length);
  out.writeUInt32LE(4 + args.length, 0);
  out.writeUInt16LE(command, 4);
  out.writeUInt8(0, 6);
  out.writeUInt8(seq, 7);
  args.copy(out, 8);
  return out;
}

/** RD_VIRT_STRING's argument: the u32 LE id. */
export function readStringArgs(id: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(id, 0);
  return b;
}

/** A response body split into its echoed header and payload. */
export interface Response {
  command: number;
  seq: number;
  payload: Buffer;
}

/** Splits one frame body (the bytes after the length) into header and payload. */
export function parseResponseBody(body: Buffer): Response | Reject {
  if (body.length < 4) return reject('RS_ERR_FRAME_TRUNCATED', `response body of ${body.length} bytes has no 4-byte header`, body);
  return { command: body.readUInt16LE(0), seq: body.readUInt8(3), payload: body.subarray(4) };
}

/**
 * RD_VIRT_STRING's reply payload: `u32 retcode` (1 = ok), `u32 length`, then `length` bytes. Some
 * firmware appends one 0x00 byte past the declared length; the public library drops it, so do we.
 */
export function parseVirtualString(id: number, payload: Buffer): Buffer | Reject {
  const name = `VS 0x${id.toString(16)}`;
  if (payload.length < 8) return reject('RS_ERR_FRAME_TRUNCATED', `${name}: reply of ${payload.length} bytes, need 8`, payload);
  const retcode = payload.readUInt32LE(0);
  if (retcode !== 1) return reject('RS_ERR_FRAME_SYNTAX', `${name}: device answered retcode ${retcode} (1 = ok)`, payload.subarray(0, 64));
  const length = payload.readUInt32LE(4);
  const data = payload.subarray(8);
  if (data.length === length + 1 && data[length] === 0) return data.subarray(0, length);
  if (data.length !== length)
    return reject('RS_ERR_FRAME_TRUNCATED', `${name}: declares ${length} bytes, carries ${data.length}`, payload.subarray(0, 64));
  return data;
}

/** Firmware the public library's decoders are written for; older firmware has other layouts. */
export const MIN_FIRMWARE = { major: 4, minor: 8 } as const;

export interface FirmwareVersion {
  boot: { major: number; minor: number; date: string };
  target: { major: number; minor: number; date: string };
}

/**
 * GET_VERSION's payload: boot `u16 minor`, `u16 major`, date as `u8 length` + ASCII; then the
 * target (application) firmware the same way (its date may carry trailing NULs).
 */
export function parseVersion(payload: Buffer): FirmwareVersion | Reject {
  let at = 0;
  const part = () => {
    if (payload.length - at < 5) return undefined;
    const minor = payload.readUInt16LE(at);
    const major = payload.readUInt16LE(at + 2);
    const len = payload.readUInt8(at + 4);
    if (payload.length - at - 5 < len) return undefined;
    const date = payload
      .subarray(at + 5, at + 5 + len)
      .toString('latin1')
      .replace(/\0+$/, '');
    at += 5 + len;
    return { major, minor, date };
  };
  const boot = part();
  const target = part();
  if (!boot || !target)
    return reject('RS_ERR_FRAME_TRUNCATED', `GET_VERSION: ${payload.length} bytes do not hold two versions`, payload.subarray(0, 64));
  return { boot, target };
}

export const firmwareSupported = (v: FirmwareVersion): boolean =>
  v.target.major > MIN_FIRMWARE.major || (v.target.major === MIN_FIRMWARE.major && v.target.minor >= MIN_FIRMWARE.minor);

/** `SpecFormatVersion=N` from the CONFIGURATION text (cp1251, ASCII for this key); 0 when absent. */
export function specFormatVersion(configuration: Buffer): number {
  const m = /^SpecFormatVersion=(\d+)\s*$/m.exec(configuration.toString('latin1'));
  return m ? Number(m[1]) : 0;
}

export const isReject = (x: unknown): x is Reject => typeof x === 'object' && x !== null && 'code' in x && 'message' in x;
