/**
 * Polls `probe` every `everyMs` until it returns true; throws after `timeoutMs` with the last
 * value `describe` gives, so a failing test says where it stopped.
 */
export async function waitFor(
  probe: () => Promise<boolean> | boolean,
  opts: { timeoutMs: number; everyMs?: number; describe?: () => unknown },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${opts.timeoutMs} ms; last: ${JSON.stringify(opts.describe?.())}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 50));
  }
}
