/**
 * Callers waiting for a queue (outbox, spool, write buffer) to fall idle. The queue calls
 * `notify()` whenever it empties; `wait()` resolves true then, or false once `timeoutMs` passed
 * first, so a shutdown can bound how long it waits for a dead next hop.
 */
export function createIdleWaiters() {
  const waiters: (() => void)[] = [];
  return {
    notify(): void {
      for (const w of waiters.splice(0)) w();
    },
    wait(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = Number.isFinite(timeoutMs)
          ? setTimeout(() => {
              waiters.splice(waiters.indexOf(done), 1);
              resolve(false);
            }, timeoutMs)
          : undefined;
        waiters.push(done);
      });
    },
  };
}
