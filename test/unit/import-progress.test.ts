import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatProgress, startProgress } from '../../src/cli/import-progress.ts';

/** A fake stderr: collects writes; `isTTY` chooses the rewritten line or periodic lines. */
const sink = (isTTY: boolean) => {
  const writes: string[] = [];
  return { writes, out: { isTTY, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream };
};

describe('import progress', () => {
  afterEach(() => vi.useRealTimers());

  it('shows readings, rate and an ETA from the bytes while reading; no ETA once everything is read', () => {
    expect(formatProgress({ bytes: 250_000, readings: 10_000 }, 1_000_000, 2000)).toBe(
      'import: 25% of 1.0 MB, 10000 readings, 5000/s, ETA 6 s',
    );
    expect(formatProgress({ bytes: 1_000_000, readings: 40_000 }, 1_000_000, 8000)).toBe('import: 100% of 1.0 MB, 40000 readings, 5000/s');
    expect(formatProgress({ bytes: 2048, readings: 3 }, undefined, 1000)).toBe('import: 2.0 kB, 3 readings, 3/s');
  });

  it('keeps reporting while the input is silent (a stored file being decoded and stored), every 5 s off a TTY', () => {
    vi.useFakeTimers();
    let t = 0;
    const state = { bytes: 1000, readings: 0 };
    const { writes, out } = sink(false);
    const p = startProgress({ size: 1000, state: () => state, out, now: () => t });
    for (let i = 1; i <= 4; i++) {
      t += 5000;
      state.readings = i * 100_000;
      vi.advanceTimersByTime(5000);
    }
    p.stop();
    expect(writes).toHaveLength(5);
    expect(writes[1]).toBe('import: 100% of 1.0 kB, 200000 readings, 20000/s\n');
    expect(writes[4]).toMatch(/400000 readings, 20000\/s, done\n$/);
  });

  it('rewrites one line four times a second on a TTY and ends it with a newline', () => {
    vi.useFakeTimers();
    let t = 0;
    const { writes, out } = sink(true);
    const p = startProgress({ size: undefined, state: () => ({ bytes: 10, readings: 1 }), out, now: () => t });
    t = 1000;
    vi.advanceTimersByTime(1000);
    p.stop();
    expect(writes).toHaveLength(5);
    expect(writes.every((w) => w.startsWith('\r\x1b[K'))).toBe(true);
    expect(writes[4]?.endsWith(', done\n')).toBe(true);
  });
});
