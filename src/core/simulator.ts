import type { z } from 'zod';
import type { Clock } from './clock.ts';

/**
 * A device simulator speaks one family's real bytes on a wire (one end of a pty pair, or
 * an in-process link). Simulators are written from docs/protocols.md, never by importing a decoder.
 */
export interface SimulatorWire {
  write(bytes: Buffer): void;
  /** Bytes the agent sent (requests for poll devices); output-only devices ignore them. */
  onData(listener: (chunk: Buffer) => void): void;
}

/** The physics a scenario asks for: background plus timed events, in µSv/h. */
export interface DoseScenario {
  background_usvh: number;
  events: { at_s: number; duration_s: number; peak_usvh: number; shape: 'step' | 'pass'; every_s?: number | undefined }[];
  seed: number;
  /** The device's tick in ms (1000 = real time). */
  tick_ms: number;
  /** Timers and time of a training run (src/core/clock.ts); default the wall clock. */
  clock?: Clock | undefined;
}

export interface DeviceSimulator {
  start(): void;
  /** Stops timers; idempotent. */
  stop(): void;
}

export type SimulatorFactory = (wire: SimulatorWire, scenario: DoseScenario) => DeviceSimulator;

/**
 * The control panel a simulator offers to scenarios: each method it exposes beyond start/stop,
 * with the zod schema of its argument list. Declared next to the simulator (one file per family);
 * scenarios are validated against it and the training runner calls the method by name.
 */
export type ControlApi = Readonly<Record<string, z.ZodType<unknown[]>>>;
