import { openPrivateDatabase } from '../core/private-database.ts';
import type { RunReport } from './report.ts';

/** One stored run as listed per trainee: the report's head and score. */
export interface StoredRunSummary {
  run: string;
  scenario: string;
  title: string;
  trainee: string | null;
  started_by: string;
  mode: RunReport['mode'];
  state: RunReport['state'];
  started_at: number;
  ended_at: number | null;
  score_percent: number;
}

/**
 * Training runs and their after-action reports, kept in SQLite (`<data_dir>/training.db`, file
 * mode 0600 like every private file: trainee names and scores are personal data). A run is saved
 * when it starts and again with its final report when it ends.
 */
export interface TrainingRunStore {
  save(report: RunReport): void;
  report(run: string): RunReport | undefined;
  /** Newest first; `trainee` filters to one trainee's runs (an instructor's view of progress). */
  list(opts?: { trainee?: string; limit?: number }): StoredRunSummary[];
  close(): void;
}

export function openTrainingRunStore(path = ':memory:'): TrainingRunStore {
  const db = openPrivateDatabase(path);
  db.exec(`CREATE TABLE IF NOT EXISTS training_runs (
    run TEXT PRIMARY KEY, scenario TEXT NOT NULL, title TEXT NOT NULL, trainee TEXT, started_by TEXT NOT NULL,
    mode TEXT NOT NULL, state TEXT NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER,
    score_percent INTEGER NOT NULL, report TEXT NOT NULL)`);
  db.exec('CREATE INDEX IF NOT EXISTS training_runs_trainee ON training_runs (trainee, started_at)');
  const upsert = db.prepare(`INSERT INTO training_runs VALUES (@run, @scenario, @title, @trainee, @started_by, @mode, @state,
    @started_at, @ended_at, @score_percent, @report) ON CONFLICT(run) DO UPDATE SET state = excluded.state,
    ended_at = excluded.ended_at, score_percent = excluded.score_percent, report = excluded.report`);
  const COLS = 'run, scenario, title, trainee, started_by, mode, state, started_at, ended_at, score_percent';
  return {
    save(r) {
      upsert.run({
        run: r.run,
        scenario: r.scenario,
        title: r.title,
        trainee: r.trainee,
        started_by: r.started_by,
        mode: r.mode,
        state: r.state,
        started_at: r.started_at,
        ended_at: r.ended_at,
        score_percent: r.score.percent,
        report: JSON.stringify(r),
      });
    },
    report(run) {
      const row = db.prepare('SELECT report FROM training_runs WHERE run = ?').get(run) as { report: string } | undefined;
      return row ? (JSON.parse(row.report) as RunReport) : undefined;
    },
    list(o = {}) {
      const limit = o.limit ?? 100;
      return (
        o.trainee === undefined
          ? db.prepare(`SELECT ${COLS} FROM training_runs ORDER BY started_at DESC LIMIT ?`).all(limit)
          : db.prepare(`SELECT ${COLS} FROM training_runs WHERE trainee = ? ORDER BY started_at DESC LIMIT ?`).all(o.trainee, limit)
      ) as StoredRunSummary[];
    },
    close: () => db.close(),
  };
}
