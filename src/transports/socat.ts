import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** True when `socat` is on the PATH. */
export function hasSocat(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

export interface PtyPair {
  /** The end the agent opens, as it would open /dev/ttyUSB0. */
  agentPath: string;
  /** The end the simulator writes. */
  devicePath: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `socat` linking two pseudo-terminals at the given paths, and waits until both
 * links exist. `stop` kills exactly this socat by PID and waits for it to exit.
 */
export async function startPtyPair(agentPath: string, devicePath: string, timeoutMs = 5000): Promise<PtyPair> {
  const child: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${agentPath}`, `pty,raw,echo=0,link=${devicePath}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(agentPath) && existsSync(devicePath))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`socat did not create ${agentPath} and ${devicePath}: ${stderr.trim() || 'timed out'}`);
    }
    await sleep(10);
  }
  return {
    agentPath,
    devicePath,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(2000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
  };
}
