import { afterEach, describe, expect, it, vi } from 'vitest';
import { everyInterval, sharedIntervals } from '../../src/core/shared-interval.ts';

describe('shared interval', () => {
  afterEach(() => vi.useRealTimers());

  it('runs every job of one period from one timer, and frees it when the last job stops', () => {
    vi.useFakeTimers();
    const runs: string[] = [];
    const stops = ['a', 'b', 'c'].map((name) => everyInterval(1000, () => runs.push(name)));
    const other = everyInterval(250, () => runs.push('fast'));
    expect(sharedIntervals()).toEqual(
      new Map([
        [1000, 3],
        [250, 1],
      ]),
    );
    expect(vi.getTimerCount()).toBe(2); // not one per job
    vi.advanceTimersByTime(1000);
    expect(runs.filter((r) => r !== 'fast')).toEqual(['a', 'b', 'c']);
    expect(runs.filter((r) => r === 'fast')).toHaveLength(4);
    for (const stop of stops) stop();
    other();
    expect(sharedIntervals().size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps running the other jobs of a period when one throws, and reports the error', async () => {
    const runs: string[] = [];
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onError);
    const stopBad = everyInterval(20, () => {
      throw new Error('job failed');
    });
    const stopGood = everyInterval(20, () => runs.push('good'));
    await new Promise((r) => setTimeout(r, 70));
    stopBad();
    stopGood();
    process.off('uncaughtException', onError);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect((errors[0] as Error).message).toBe('job failed');
  });
});
