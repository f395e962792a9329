import { join } from 'node:path';
import { openPrivateDatabase } from '../core/private-database.ts';
import { type Alarm, AlarmSchema, type AlarmTransition } from './types.ts';

/**
 * Alarm state on SQLite (WAL): every occurrence (`alarms`, one row per id, the whole alarm as
 * JSON), every transition ever (`transitions`, append-only: the history an auditor reads), and
 * the engine's memory (`memory`: rule state such as background estimates and on-delay timers,
 * devices seen). Open occurrences are read back at start, so a restart neither loses a raised
 * alarm nor re-raises an acknowledged one. `:memory:` gives the same store without a file
 * (replay, tests).
 */
export interface AlarmStore {
  /** Every occurrence that is not closed, oldest first. */
  loadOpen(): Alarm[];
  /** Inserts or replaces one occurrence. */
  saveAlarm(alarm: Alarm): void;
  /** Appends one transition (and saves its alarm) in one SQLite transaction. */
  appendTransition(t: AlarmTransition): void;
  get(id: string): Alarm | undefined;
  /** Closed occurrences, newest closed first. */
  listClosed(limit: number): Alarm[];
  /** Transitions, oldest first: of one alarm, or all since `since` (engine clock ms). */
  transitions(opts: { alarmId?: string; since?: number; limit?: number }): AlarmTransition[];
  /** Ids of every occurrence ever stored (to keep new ids unique across restarts). */
  hasId(id: string): boolean;
  loadMemory(): Map<string, unknown>;
  saveMemory(entries: Iterable<[string, unknown]>): void;
  close(): void;
}

/** Where the station keeps its alarm database: `<data_dir>/alarms.sqlite`. */
export function alarmStorePath(dataDir: string): string {
  return join(dataDir, 'alarms.sqlite');
}

/** Opens (creating if needed) the alarm store at `path`, or an in-memory one for `:memory:`. */
export function openAlarmStore(path = ':memory:'): AlarmStore {
  const db = openPrivateDatabase(path);
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commit.
  db.pragma('synchronous = NORMAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS alarms (
      id TEXT PRIMARY KEY, station TEXT NOT NULL, device TEXT NOT NULL, rule TEXT NOT NULL,
      raised_at INTEGER NOT NULL, closed_at INTEGER, doc TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS alarms_open ON alarms (closed_at);
    CREATE TABLE IF NOT EXISTS transitions (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, alarm_id TEXT NOT NULL, ts INTEGER NOT NULL,
      kind TEXT NOT NULL, doc TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS transitions_alarm ON transitions (alarm_id, seq);
    CREATE INDEX IF NOT EXISTS transitions_ts ON transitions (ts);
    CREATE TABLE IF NOT EXISTS memory (key TEXT PRIMARY KEY, doc TEXT NOT NULL);
  `);
  const upsert = db.prepare(
    `INSERT INTO alarms (id, station, device, rule, raised_at, closed_at, doc) VALUES (@id, @station, @device, @rule, @raised_at, @closed_at, @doc)
     ON CONFLICT(id) DO UPDATE SET closed_at = excluded.closed_at, doc = excluded.doc`,
  );
  const insertTransition = db.prepare('INSERT INTO transitions (alarm_id, ts, kind, doc) VALUES (?, ?, ?, ?)');
  const selectOpen = db.prepare('SELECT doc FROM alarms WHERE closed_at IS NULL ORDER BY raised_at, id');
  const selectOne = db.prepare('SELECT doc FROM alarms WHERE id = ?');
  const selectClosed = db.prepare('SELECT doc FROM alarms WHERE closed_at IS NOT NULL ORDER BY closed_at DESC, id DESC LIMIT ?');
  const selectByAlarm = db.prepare('SELECT doc FROM transitions WHERE alarm_id = ? ORDER BY seq LIMIT ?');
  const selectSince = db.prepare('SELECT doc FROM transitions WHERE ts >= ? ORDER BY seq LIMIT ?');
  const selectMemory = db.prepare('SELECT key, doc FROM memory');
  const upsertMemory = db.prepare('INSERT INTO memory (key, doc) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET doc = excluded.doc');

  // Rows are written by this module only; parse keeps defaults for fields added later.
  const parse = (row: unknown): Alarm => AlarmSchema.parse(JSON.parse((row as { doc: string }).doc));
  const save = (a: Alarm) =>
    upsert.run({
      id: a.id,
      station: a.station,
      device: a.device,
      rule: a.rule,
      raised_at: a.raised_at,
      closed_at: a.closed_at ?? null,
      doc: JSON.stringify(a),
    });
  const append = db.transaction((t: AlarmTransition) => {
    save(t.alarm);
    insertTransition.run(t.alarm.id, t.ts, t.kind, JSON.stringify(t));
  });
  const saveMemory = db.transaction((entries: Iterable<[string, unknown]>) => {
    for (const [k, v] of entries) upsertMemory.run(k, JSON.stringify(v));
  });

  return {
    loadOpen: () => selectOpen.all().map(parse),
    saveAlarm: save,
    appendTransition: (t) => append(t),
    get: (id) => {
      const row = selectOne.get(id);
      return row ? parse(row) : undefined;
    },
    listClosed: (limit) => selectClosed.all(limit).map(parse),
    transitions: ({ alarmId, since, limit = 100_000 }) => {
      const rows = alarmId !== undefined ? selectByAlarm.all(alarmId, limit) : selectSince.all(since ?? 0, limit);
      return rows.map((r) => JSON.parse((r as { doc: string }).doc) as AlarmTransition);
    },
    hasId: (id) => selectOne.get(id) !== undefined,
    loadMemory: () => new Map(selectMemory.all().map((r) => [(r as { key: string }).key, JSON.parse((r as { doc: string }).doc)])),
    saveMemory: (entries) => saveMemory(entries),
    close: () => {
      if (db.open) db.close();
    },
  };
}
