/**
 * The state of a simulated GQ GMC: model table, configuration block, device clock and history
 * flash, all from docs/protocols.md §1 (never from the decoder in devices/gq-gmc).
 */

/** Models the simulator can be, by the name its GETVER reports. */
export type GqSimModel = 'GMC-300' | 'GMC-300S' | 'GMC-320' | 'GMC-500+' | 'GMC-600+' | 'GMC-800';

export interface GqSimSpec {
  /** GETVER reply (§1.9). */
  version: string;
  /** RFC1801 units (500/600/800) answer counts in 4 bytes, RFC1201 units in 2. */
  wide: boolean;
  /** GETVOLT reply; undefined = no reply (GMC-800). */
  volt?: Buffer;
  /** GETSERIAL reply, real captures from §1.10 where there are ones. */
  serial: Buffer;
  /** Three calibration points (CPM, µSv/h) stored in GETCFG. */
  calibration: [number, number][];
  /** CPM per µSv/h the simulated tube produces. */
  sensitivity: number;
  /** History flash size in bytes. */
  flashBytes: number;
  /** GETTEMP and GETGYRO are answered (not on the 800; GETTEMP RFC1201 only). */
  temp: boolean;
  gyro: boolean;
}

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');
const M4011_POINTS: [number, number][] = [
  [60, 0.39],
  [240, 1.56],
  [1000, 6.5],
];

export const GQ_SIM_MODELS: Record<GqSimModel, GqSimSpec> = {
  'GMC-300': {
    version: 'GMC-300Re 4.54',
    wide: false,
    volt: hex('62'),
    serial: hex('F4 88 00 67 1C 42 01'),
    calibration: M4011_POINTS,
    sensitivity: 1 / 0.0065,
    flashBytes: 64 * 1024,
    temp: true,
    gyro: false,
  },
  'GMC-300S': {
    version: 'GMC-300SRe 1.14',
    wide: false,
    volt: hex('2A'),
    serial: hex('F7 F4 C5 78 13 9D 08'),
    calibration: [
      [1615, 10],
      [16150, 100],
      [32300, 200],
    ],
    sensitivity: 161.5,
    flashBytes: 64 * 1024,
    temp: true,
    gyro: true,
  },
  'GMC-320': {
    version: 'GMC-320Re 4.26',
    wide: false,
    volt: hex('2A'),
    serial: hex('F4 88 00 67 1C 42 C2'),
    calibration: M4011_POINTS,
    sensitivity: 1 / 0.0065,
    flashBytes: 1024 * 1024,
    temp: true,
    gyro: true,
  },
  'GMC-500+': {
    version: 'GMC-500+Re 2.22',
    wide: true,
    volt: Buffer.from('4.0v\0', 'latin1'),
    serial: hex('30 30 21 57 21 57 F6'),
    // The third point belongs to the second tube (25 CPM = 4.85 µSv/h), as in the factory config.
    calibration: [
      [60, 0.39],
      [240, 1.56],
      [25, 4.85],
    ],
    sensitivity: 1 / 0.0065,
    flashBytes: 1024 * 1024,
    temp: false,
    gyro: true,
  },
  'GMC-600+': {
    version: 'GMC-600+Re 2.52',
    wide: true,
    volt: Buffer.from('3.97v', 'latin1'),
    serial: hex('30 30 21 57 21 60 01'),
    calibration: [
      [354, 1],
      [3541, 10],
      [35410, 100],
    ],
    sensitivity: 354.1,
    flashBytes: 1024 * 1024,
    temp: false,
    gyro: true,
  },
  'GMC-800': {
    version: 'GMC-800Re1.08',
    wide: true,
    serial: hex('30 30 21 57 21 80 01'),
    calibration: [
      [1538, 10],
      [15380, 100],
      [30760, 200],
    ],
    sensitivity: 153.8,
    flashBytes: 2 * 1024 * 1024,
    temp: false,
    gyro: false,
  },
};

/**
 * The GETCFG block (§1.6): 256 bytes with little-endian floats on RFC1201 units, 512 with
 * big-endian floats on RFC1801 ones. Unset bytes read 0xFF like erased flash.
 */
export function buildConfigBlock(spec: GqSimSpec): Buffer {
  const cfg = Buffer.alloc(spec.wide ? 512 : 256, 0xff);
  cfg[0] = 0; // power on (inverted flag)
  cfg[32] = 2; // history: CPM every minute
  cfg[57] = spec.wide ? 0 : 254; // baud code for 115200
  spec.calibration.forEach(([cpm, usvh], i) => {
    const at = 8 + i * 6;
    cfg.writeUInt16BE(cpm, at);
    if (spec.wide) cfg.writeFloatBE(usvh, at + 2);
    else cfg.writeFloatLE(usvh, at + 2);
  });
  return cfg;
}

/** Wall-clock fields of instant `ms` in `timeZone`, as a device clock shows them. */
export function wallClock(ms: number, timeZone: string): number[] {
  const parts: Record<string, number> = {};
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  for (const p of f.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return [(parts.year ?? 2000) - 2000, parts.month ?? 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0];
}

/**
 * History flash in save mode 2 (CPM every minute): a timestamp tag at power-on and every 60
 * samples after it, then one byte per minute; values that do not fit a plain byte (≥ 255, or 0x55,
 * which could start an escape) go as `55 AA 01 HI LO`.
 */
export class HistoryFlash {
  readonly bytes: Buffer;
  private at = 0;
  private sinceTag = 0;

  constructor(size: number) {
    this.bytes = Buffer.alloc(size, 0xff);
  }

  /** Current save address (GetSPISA). */
  get address(): number {
    return this.at;
  }

  tag(wall: number[]): void {
    this.append([0x55, 0xaa, 0x00, ...wall, 0x55, 0xaa, 0x02]);
    this.sinceTag = 0;
  }

  sample(cpm: number, wall: () => number[]): void {
    if (this.sinceTag >= 60) this.tag(wall());
    const v = Math.min(cpm, 0xffff);
    this.append(v >= 0xff || v === 0x55 ? [0x55, 0xaa, 0x01, v >> 8, v & 0xff] : [v]);
    this.sinceTag += 1;
  }

  private append(data: number[]): void {
    for (const b of data) {
      this.bytes[this.at] = b;
      this.at = (this.at + 1) % this.bytes.length;
    }
  }
}
