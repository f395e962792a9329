import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

/** Which broker message a commit came from: its packet id and a digest of its payload. */
export interface SourceMark {
  messageId: number;
  digest: string;
}

/** sha1 of a payload, hex: enough to tell two payloads apart, not a security measure. */
export const digestOf = (payload: Buffer): string => createHash('sha1').update(payload).digest('hex');

/**
 * Redelivery guard for MQTT device messages (docs/agent.md "When the PUBACK goes out").
 *
 * The link PUBACKs a QoS 1 message only after its readings are committed, and mqtt.js handles
 * the next message only after that PUBACK, so at any time at most one message is committed but
 * not acknowledged: the last one committed. If the agent dies in that instant, the broker
 * re-sends it (DUP flag set, same packet id, MQTT 3.1.1 §4.4). For a device with its own clock
 * that is harmless (same identity); for one stamped by the agent it would become a second reading
 * with a new receive time. So the packet id and payload digest of the last committed message are
 * stored in the outbox file (keyed by the device's queue) in the same transaction as its readings, and a redelivered message
 * (DUP) that matches them is acknowledged without being read again.
 *
 * Only DUP messages are checked, and only against the one last commit: a device repeating the
 * same payload is read every time, and brokers hand out packet ids in sequence, so a different
 * message with the same id and payload right after the last commit does not occur in practice.
 */
export function openSourceMarks(db: Database.Database, queue = '') {
  // Keyed by the outbox queue's name: the devices of one agent share its outbox file (outbox-file.ts).
  db.exec('CREATE TABLE IF NOT EXISTS source_marks (queue TEXT PRIMARY KEY, message_id INTEGER NOT NULL, digest TEXT NOT NULL)');
  const put = db.prepare<[string, number, string]>('INSERT OR REPLACE INTO source_marks (queue, message_id, digest) VALUES (?, ?, ?)');
  const get = db.prepare<[string], { message_id: number; digest: string }>('SELECT message_id, digest FROM source_marks WHERE queue = ?');
  return {
    /** Records the mark; call inside the transaction that commits the message's readings. */
    write(mark: SourceMark): void {
      put.run(queue, mark.messageId, mark.digest);
    },
    /** True when a redelivered message is the one last committed. */
    isLastCommitted(mark: SourceMark): boolean {
      const last = get.get(queue);
      return last !== undefined && last.message_id === mark.messageId && last.digest === mark.digest;
    },
  };
}
export type SourceMarks = ReturnType<typeof openSourceMarks>;
