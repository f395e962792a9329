import type { ErrorCode } from '../../src/core/errors.ts';
import { type DeviceProfile, type DeviceSession, parseSessionOptions, type SessionContext } from '../../src/core/profile.ts';
import type { DecodedReading } from '../../src/core/reading.ts';

/** A session wired to arrays instead of an agent: what a unit test needs to watch a decoder. */
export function harness<Options extends object>(
  profile: DeviceProfile<Options>,
  /** Raw options, parsed by the profile's schema as the config loader does. */
  options: Record<string, unknown> = {},
  now = () => 1_700_000_000_000,
  /** Where requests go besides `written` (a real port in pty tests); default nowhere. */
  send?: (bytes: Buffer) => Promise<void>,
) {
  const readings: DecodedReading[] = [];
  const rejects: { code: ErrorCode; message: string }[] = [];
  const written: Buffer[] = [];
  const quiet = { debug() {}, info() {}, warn() {} };
  const ctx: SessionContext<Options> = {
    now,
    write: async (b) => {
      const bytes = Buffer.from(b);
      written.push(bytes);
      await send?.(bytes);
    },
    emit: (r) => void readings.push(r),
    reject: (r) => void rejects.push({ code: r.code, message: r.message }),
    options: parseSessionOptions(profile, options),
    log: quiet,
  };
  const session: DeviceSession = profile.createSession(ctx);
  return { session, readings, rejects, written, ctx };
}

/** Feeds bytes in the given chunk sizes (cycled), to catch framers that assume whole frames. */
export function feedInChunks(session: DeviceSession, bytes: Buffer, sizes: number[]): void {
  let i = 0;
  let k = 0;
  while (i < bytes.length) {
    const size = sizes[k++ % sizes.length] as number;
    session.push(bytes.subarray(i, i + size));
    i += size;
  }
}

/** Stream parsers emit on the next tick; let them. */
export const settle = () => new Promise((r) => setImmediate(r));
