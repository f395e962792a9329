/**
 * `node --import tsx bench/ingest-hotpath.ts [--json]`: CPU cost per reading of the ingest's
 * per-message stages, in this process, without MQTT, SQLite or InfluxDB: admission (envelope
 * JSON.parse, schema, reading contract: src/ingest/admission.ts) and line protocol
 * (src/ingest/line-protocol.ts), on payloads of 1,000 and of 1 agent-shaped readings. CPU time
 * (process.cpuUsage), so it is far less disturbed by a loaded machine than wall time; run it under
 * `node --cpu-prof` to see inside a stage. Not a test: figures only.
 */
import os from 'node:os';
import { catalogue } from '../devices/index.ts';
import { topics } from '../src/core/contract.ts';
import { createAdmission } from '../src/ingest/admission.ts';
import { toLines } from '../src/ingest/line-protocol.ts';

const json = process.argv.includes('--json');
const READINGS = 200_000;
const t0 = Date.now() - 3_600_000;
const topic = topics.readings('bench', 'gen-1');
const reading = (n: number) => ({
  station: 'bench',
  device: 'gen-1',
  profile: 'mqtt-json',
  kind: 'dosimeter',
  ts: t0 + n,
  seq: 0,
  ts_source: 'agent',
  values: { cpm: n % 1000, dose_rate: (n % 1000) / 175, counts: n },
  quality: 'good',
  source: 'simulated',
});
function payloads(perMessage: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < READINGS / perMessage; i++)
    out.push(Buffer.from(JSON.stringify({ v: 1, readings: Array.from({ length: perMessage }, (_, k) => reading(i * perMessage + k)) })));
  return out;
}

const admit = createAdmission({ catalogue });
/** µs of CPU per reading for admission and for line protocol, over every payload (after a warm-up pass). */
function measure(perMessage: number): { admission_us: number; line_protocol_us: number } {
  const msgs = payloads(perMessage);
  for (const p of msgs.slice(0, Math.ceil(msgs.length / 10))) admit(topic, p); // warm-up: let V8 optimise
  let admitted = 0;
  const accepted = [];
  const a0 = process.cpuUsage();
  for (const p of msgs) {
    const r = admit(topic, p);
    if (!r.ok || r.refused.length > 0) throw new Error(`bench: refused ${JSON.stringify(r).slice(0, 300)}`);
    admitted += r.accepted.length;
    accepted.push(r.accepted);
  }
  const a1 = process.cpuUsage(a0);
  let bytes = 0;
  const l0 = process.cpuUsage();
  for (const readings of accepted) bytes += toLines(readings).length;
  const l1 = process.cpuUsage(l0);
  if (admitted !== READINGS || bytes !== READINGS) throw new Error(`bench: ${admitted} admitted, ${bytes} lines`);
  const us = (c: NodeJS.CpuUsage) => (c.user + c.system) / READINGS;
  return { admission_us: Number(us(a1).toFixed(3)), line_protocol_us: Number(us(l1).toFixed(3)) };
}

const result = {
  per_reading_cpu_us: { coalesced_1000: measure(1000), single: measure(1) },
  loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
};
process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
