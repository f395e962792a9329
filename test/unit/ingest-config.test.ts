import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.ts';

/** `radscreen ingest` as N workers: the config says where shared subscriptions work (issue 4 §6). */
describe('ingest config: shared subscriptions', () => {
  it('rejects ingest.share_group with the embedded aedes broker, at config check time', () => {
    const r = ConfigSchema.safeParse({ station: { id: 'st1' }, ingest: { share_group: 'ingest' } });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => [i.path.join('.'), i.message.includes('embedded aedes')])).toEqual([['ingest.share_group', true]]);
  });

  it('accepts it with an external broker, and protocol_version 4 or 5 only', () => {
    const ok = ConfigSchema.safeParse({
      station: { id: 'st1' },
      mqtt: { url: 'mqtt://127.0.0.1:1883', protocol_version: 5 },
      ingest: { share_group: 'ingest' },
    });
    expect(ok.success).toBe(true);
    expect(ok.data?.ingest.share_group).toBe('ingest');
    const bad = ConfigSchema.safeParse({ station: { id: 'st1' }, mqtt: { url: 'mqtt://127.0.0.1:1883', protocol_version: 3 } });
    expect(bad.success).toBe(false);
  });

  it('a station without ingest settings still parses (no shared subscription)', () => {
    const r = ConfigSchema.safeParse({ station: { id: 'st1' } });
    expect(r.success).toBe(true);
    expect(r.data?.ingest.share_group).toBeUndefined();
  });

  it('ingest.connections: default 1; more only with an external broker; 1..64', () => {
    expect(ConfigSchema.parse({ station: { id: 'st1' } }).ingest.connections).toBe(1);
    const embedded = ConfigSchema.safeParse({ station: { id: 'st1' }, ingest: { connections: 8 } });
    expect(embedded.error?.issues.map((i) => [i.path.join('.'), i.message.includes('embedded aedes')])).toEqual([
      ['ingest.connections', true],
    ]);
    const external = { station: { id: 'st1' }, mqtt: { url: 'mqtt://127.0.0.1:1883' } };
    expect(ConfigSchema.parse({ ...external, ingest: { connections: 8 } }).ingest.connections).toBe(8);
    for (const connections of [0, 65, 2.5])
      expect(ConfigSchema.safeParse({ ...external, ingest: { connections } }).success, String(connections)).toBe(false);
  });
});
