import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openAgentOutbox } from '../../src/agent/outbox-file.ts';
import { createPublisher } from '../../src/agent/publisher.ts';
import { openSourceMarks } from '../../src/agent/source-mark.ts';
import type { Reading } from '../../src/core/reading.ts';
import { asClient, fakeClient } from '../support/fake-mqtt-client.ts';

const root = mkdtempSync(join(tmpdir(), 'radscreen-agent-outbox-'));
let n = 0;
const dataDir = () => join(root, `d${n++}`);
const bounds = { maxRows: 1000, maxAgeMs: 3_600_000 };
const reading = (device: string, i: number): Reading => ({
  station: 's',
  device,
  profile: 'mightyohm-geiger',
  kind: 'dosimeter',
  ts: 1_700_000_000_000 + i,
  ts_source: 'device',
  values: { cpm: i },
  quality: 'good',
  source: 'simulated',
});

/**
 * Transactions committed to a WAL file so far: frames whose "database size after commit" field is
 * set end a transaction (sqlite.org/fileformat2.html, "WAL file format"); frames left from before
 * the WAL last restarted carry other salts and are not counted.
 */
function walCommits(path: string): number {
  const wal = readFileSync(`${path}-wal`);
  if (wal.length < 32) return 0;
  const pageSize = wal.readUInt32BE(8);
  const salts = wal.subarray(16, 24);
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (!wal.subarray(at + 8, at + 16).equals(salts)) break;
    if (wal.readUInt32BE(at + 4) !== 0) commits++;
  }
  return commits;
}

describe('agent outbox file (one file, one commit per turn for all devices)', () => {
  it('commits the readings of eight devices in one turn as one transaction; a publisher alone commits its own', async () => {
    const dir = dataDir();
    const file = openAgentOutbox(dir);
    const path = join(dir, 'outbox.sqlite');
    const devices = Array.from({ length: 8 }, (_, i) => `dev-${i}`);
    const client = fakeClient();
    client.setMaxListeners(16); // sixteen publishers on one stand-in connection
    const onFile = (d: string, shared: boolean) =>
      createPublisher({
        client: asClient(client),
        topic: `t/${d}`,
        outbox: file.queue(d, bounds),
        ...(shared ? { commits: file.commits } : {}),
        coalesceMs: 5,
        maxInflight: 10,
        onPublishError() {},
      });
    const grouped = devices.map((d) => onFile(d, true));
    const alone = devices.map((d) => onFile(`alone-${d}`, false));

    const before = walCommits(path);
    for (const [i, p] of grouped.entries()) expect(p.publish(reading(devices[i] as string, i))).toBe(true);
    await Promise.all(grouped.map((p) => p.committed()));
    expect(walCommits(path) - before).toBe(1);

    const between = walCommits(path);
    for (const [i, p] of alone.entries()) expect(p.publish(reading(`alone-${devices[i]}`, i))).toBe(true);
    await Promise.all(alone.map((p) => p.committed()));
    expect(walCommits(path) - between).toBe(8);

    // Every reading was committed to its own device's queue, and published.
    for (const d of devices) expect(file.db.prepare(`SELECT count(*) FROM "q:${d}"`).pluck().get()).toBe(1);
    await Promise.all([...grouped, ...alone].map((p) => p.drain()));
    expect(client.messages).toHaveLength(16);
    for (const p of [...grouped, ...alone]) p.close();
    file.close();
  });

  it('a failed commit fails every device of that turn and commits none of them', () => {
    const file = openAgentOutbox(dataDir());
    const client = fakeClient();
    const [a, b] = ['a', 'b'].map((d) =>
      createPublisher({
        client: asClient(client),
        topic: `t/${d}`,
        outbox: file.queue(d, bounds),
        commits: file.commits,
        coalesceMs: 5,
        maxInflight: 10,
        onPublishError() {},
      }),
    );
    if (!a || !b) throw new Error('two publishers');
    // Device b's insert fails as a full disk would.
    file.db.exec(`CREATE TRIGGER full BEFORE INSERT ON "q:b" BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    a.publish(reading('a', 1));
    b.publish(reading('b', 1));
    const waits = [a.committed(), b.committed()].map((w) =>
      w.then(
        () => 'committed',
        (e: Error) => e.message,
      ),
    );
    expect(() => file.commits.flush()).toThrow(/disk is full/);
    expect(file.db.prepare('SELECT count(*) FROM "q:a"').pluck().get()).toBe(0);
    expect(client.messages).toEqual([]);
    return expect(Promise.all(waits)).resolves.toEqual(['database or disk is full', 'database or disk is full']);
  });

  it('moves the per-device file of an older agent in as backlog, with its counter and source mark, and deletes it', () => {
    const dir = dataDir();
    mkdirSync(join(dir, 'outbox'), { recursive: true });
    const legacyPath = join(dir, 'outbox', 'dev-a.sqlite');
    // The layout agents wrote before the shared file, from the oldest version (rows without `n`).
    const legacy = new Database(legacyPath);
    legacy.pragma('journal_mode = WAL');
    legacy.exec(`
      CREATE TABLE q (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, body TEXT NOT NULL);
      CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
      CREATE TABLE source_mark (k INTEGER PRIMARY KEY CHECK (k = 0), message_id INTEGER NOT NULL, digest TEXT NOT NULL);
      INSERT INTO q (at, body) VALUES (1, 'r1'), (2, 'r2'), (3, 'r3');
      DELETE FROM q WHERE body = 'r1';
      INSERT INTO meta VALUES ('appended', 3);
      INSERT INTO source_mark VALUES (0, 42, 'abc');`);
    legacy.close();

    const file = openAgentOutbox(dir);
    const q = file.queue('dev-a', bounds);
    expect(existsSync(legacyPath)).toBe(false);
    expect(q.depth()).toBe(2);
    expect(q.takeLive(10)).toBeUndefined(); // what an older agent left is backlog, not live
    q.append(['r4']);
    expect(q.takeLive(10)?.bodies).toEqual(['r4']);
    expect(q.takeBacklog(10)?.bodies).toEqual(['r2', 'r3']);
    expect(q.totalAppended()).toBe(4);
    expect(openSourceMarks(file.db, 'dev-a').isLastCommitted({ messageId: 42, digest: 'abc' })).toBe(true);
    expect(file.queue('dev-b', bounds).depth()).toBe(0); // a device without an old file starts empty
    q.close();
    file.close();
    expect(existsSync(join(dir, 'outbox'))).toBe(false);
  });

  it('refuses to start on an unreadable outbox file of an older agent, naming it, and leaves it as it was', () => {
    const dir = dataDir();
    mkdirSync(join(dir, 'outbox'), { recursive: true });
    const legacyPath = join(dir, 'outbox', 'dev-a.sqlite');
    const garbage = Buffer.alloc(8192, 0x5a);
    writeFileSync(legacyPath, garbage);
    const file = openAgentOutbox(dir);
    expect(() => file.queue('dev-a', bounds)).toThrow(`cannot move the outbox of an older agent from ${legacyPath} (left as it was)`);
    expect(readFileSync(legacyPath).equals(garbage)).toBe(true);
    file.close();
  });
});
