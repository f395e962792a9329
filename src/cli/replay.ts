import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { catalogue as defaultCatalogue } from '../../devices/index.ts';
import { createAlarmEngine } from '../alarms/engine.ts';
import { rulesFromConfig } from '../alarms/rules-from-config.ts';
import { openAlarmStore } from '../alarms/store.ts';
import type { AlarmTransition } from '../alarms/types.ts';
import { type Config, ConfigSchema } from '../config/schema.ts';
import type { DeviceProfile } from '../core/profile.ts';
import { type Reading, ReadingSchema } from '../core/reading.ts';
import { DEFAULT_TIMESTAMP_WINDOW } from '../core/time-window.ts';

/** Inputs of runReplay. */
export interface ReplayOptions {
  /** NDJSON file: one canonical reading (ReadingSchema) per line; blank lines are skipped. */
  file: string;
  /** `max`: as fast as possible; N: N× real time (gaps between reading timestamps divided by N). */
  speed: number | 'max';
  /** Alarm settings; default: the built-in defaults (`alarms:` left empty). */
  config?: Pick<Config, 'alarms' | 'devices'>;
  catalogue?: ReadonlyMap<string, DeviceProfile>;
  /** Where transitions (NDJSON) and diagnostics go; default process.stdout / process.stderr. */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** What a replay did. */
export interface ReplaySummary {
  readings: number;
  transitions: number;
  /** Line numbers (1-based) of lines that were not valid readings. */
  invalid_lines: number[];
  /** Readings the engine did not evaluate: timestamp outside its window (by code), or late/repeated. */
  skipped: Record<string, number>;
}

/** Longest real pause between two readings at speed N, ms (a gap of hours should not stall a demo). */
const MAX_PAUSE_MS = 10_000;

/**
 * Replays canonical readings through the same alarm engine the server runs (same rules from the
 * same config), on an in-memory store, so nothing touches live state. Every reading is re-tagged
 * `source: replay`. The engine's clock follows the reading timestamps (at any speed, so alarm
 * times match what would have happened live), and `tick` runs whenever it advances a second, so
 * staleness and silence expiry replay too. Each transition is written as one JSON line; each
 * invalid line is reported as `line N: reason` and skipped.
 */
export async function runReplay(opts: ReplayOptions): Promise<ReplaySummary> {
  const out = opts.out ?? ((l: string) => void process.stdout.write(`${l}\n`));
  const err = opts.err ?? ((l: string) => void process.stderr.write(`${l}\n`));
  const config = opts.config ?? ConfigSchema.parse({ station: { id: 'replay' } });
  let clock = 0;
  const engine = createAlarmEngine({
    now: () => clock,
    rules: rulesFromConfig(config, opts.catalogue ?? defaultCatalogue),
    store: openAlarmStore(':memory:'),
  });
  const summary: ReplaySummary = { readings: 0, transitions: 0, invalid_lines: [], skipped: {} };
  const emit = (ts: AlarmTransition[]) => {
    for (const t of ts) out(JSON.stringify(t));
    summary.transitions += ts.length;
  };
  let lastTick = Number.NEGATIVE_INFINITY;
  const futureMs = DEFAULT_TIMESTAMP_WINDOW.futureMs;
  let started = false;
  let pending: Reading | undefined;
  let outliers = 0;
  /** Advances the data clock to the reading (never backwards, even when the file is not sorted) and evaluates it. */
  const feed = (r: Reading) => {
    started = true;
    clock = Math.max(clock, r.ts);
    if (clock - lastTick >= 1000) {
      emit(engine.tick(clock));
      lastTick = clock;
    }
    emit(engine.evaluate(r));
  };
  let prevTs: number | undefined;
  const lines = createInterface({ input: createReadStream(opts.file, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (e) {
        summary.invalid_lines.push(n);
        err(`line ${n}: not JSON (${(e as Error).message})`);
        continue;
      }
      const parsed = ReadingSchema.safeParse(json);
      if (!parsed.success) {
        summary.invalid_lines.push(n);
        err(`line ${n}: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`);
        continue;
      }
      const reading = { ...parsed.data, source: 'replay' as const };
      if (opts.speed !== 'max' && prevTs !== undefined && reading.ts > prevTs)
        await sleep(Math.min((reading.ts - prevTs) / opts.speed, MAX_PAUSE_MS));
      prevTs = reading.ts;
      summary.readings++;
      // A reading further ahead of the data clock than the future window is held until the next
      // one: if that one is far ahead too, the data really moved on (a gap in the recording) and
      // both are replayed; if not, the held reading is an outlier (a device clock that jumped) and
      // is rejected like the live engine would, without moving the clock (docs/alarm-engine.md).
      if (pending) {
        const held = pending;
        pending = undefined;
        if (reading.ts > clock + futureMs) feed(held);
        else outliers++;
      }
      if (started && reading.ts > clock + futureMs) pending = reading;
      else feed(reading);
    }
    if (pending) feed(pending);
  } finally {
    const rejected = engine.rejected();
    if (outliers > 0) rejected.RS_ERR_TS_FUTURE = (rejected.RS_ERR_TS_FUTURE ?? 0) + outliers;
    summary.skipped = { ...rejected, ...(engine.late() > 0 ? { late: engine.late() } : {}) };
    engine.close();
  }
  const skipped = Object.entries(summary.skipped).map(([k, n]) => `${n} ${k}`);
  err(
    `replayed ${summary.readings} reading(s) from ${opts.file}: ${summary.transitions} alarm transition(s), ${summary.invalid_lines.length} invalid line(s)${skipped.length ? `, not evaluated: ${skipped.join(', ')}` : ''}`,
  );
  return summary;
}
