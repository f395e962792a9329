import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { connectionClientId } from '../../src/ingest/connections.ts';
import { createGroupCommit } from '../../src/queue/group-commit.ts';

/**
 * The ingest's durable acknowledgement over several MQTT connections (src/ingest/connections.ts,
 * src/queue/group-commit.ts):
 * messages held in one event-loop turn share one commit, and every PUBACK (`done()`) comes after
 * that commit; a failed commit acknowledges nothing.
 */
describe('group commit of messages held by several connections', () => {
  it('commits the messages of one turn once, then acknowledges each', async () => {
    const events: string[] = [];
    const g = createGroupCommit<string>(
      (items) => events.push(`commit ${items.join(',')}`),
      () => events.push('failed'),
      false,
    );
    for (const m of ['a', 'b', 'c']) g.hold(m, (err) => events.push(err ? `nack ${m}` : `ack ${m}`));
    // Nothing is acknowledged before the commit, and the commit waits for the turn to end.
    expect(events).toEqual([]);
    await nextTurn();
    expect(events).toEqual(['commit a,b,c', 'ack a', 'ack b', 'ack c']);
    g.hold('d', () => events.push('ack d'));
    await nextTurn();
    expect(events.slice(4)).toEqual(['commit d', 'ack d']);
  });

  it('acknowledges a message with nothing to store (refused, dead-lettered) with its group, without storing it', async () => {
    const commits: string[][] = [];
    const acks: string[] = [];
    const g = createGroupCommit<string>(
      (items) => commits.push(items),
      () => undefined,
      false,
    );
    g.hold(undefined, () => acks.push('refused'));
    g.hold('x', () => acks.push('x'));
    await nextTurn();
    expect(commits).toEqual([['x']]);
    expect(acks).toEqual(['refused', 'x']);
  });

  it('a failed commit acknowledges none of its messages (the broker redelivers them) and says how many', async () => {
    const results: Array<string | undefined> = [];
    let failedCount = 0;
    const g = createGroupCommit<string>(
      () => {
        throw new Error('spool is closed');
      },
      (_err, count) => (failedCount = count),
      false,
    );
    g.hold('a', (err) => results.push(err?.message));
    g.hold('b', (err) => results.push(err?.message));
    await nextTurn();
    expect(results).toEqual(['spool is closed', 'spool is closed']);
    expect(failedCount).toBe(2);
  });

  it('with one connection commits at once: waiting a turn would only add latency', () => {
    const events: string[] = [];
    const g = createGroupCommit<string>(
      (items) => events.push(`commit ${items}`),
      () => undefined,
      true,
    );
    g.hold('a', () => events.push('ack a'));
    g.hold('b', () => events.push('ack b'));
    expect(events).toEqual(['commit a', 'ack a', 'commit b', 'ack b']);
  });

  it('connection 0 keeps the ingest client id (its persistent session), the others get their own', () => {
    expect([0, 1, 7].map((i) => connectionClientId('radscreen-ingest-st1', i))).toEqual([
      'radscreen-ingest-st1',
      'radscreen-ingest-st1-c1',
      'radscreen-ingest-st1-c7',
    ]);
  });
});
