/**
 * `npm run bench:identify`: time to identify one 1024-channel spectrum (target < 20 ms, docs/spectroscopy.md §7).
 * Baseline in the same run: the time to parse the same file (XML → Spectrum), so figures from a
 * busy shared machine can be judged against something. Prints figures; asserts nothing.
 * Flags: --runs N (default 500 per spectrum), --json.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { identify } from '../src/spectra/identify.ts';
import { readSpectrumFile } from '../src/spectra/read.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const runsIndex = args.indexOf('--runs');
const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : 500;
if (!Number.isInteger(runs) || runs < 10) {
  process.stderr.write('bench:identify: --runs must be an integer ≥ 10\n');
  process.exit(2);
}

const FILES = ['Cs137_b.xml', 'Co60_a.xml', 'Ba133_a.xml', 'data_am241.xml', 'bg.xml'];
const texts = FILES.map((f) => readFileSync(new URL(`../src/spectra/fixtures/${f}`, import.meta.url), 'utf8'));

function time(fn: () => unknown): number[] {
  for (let i = 0; i < 20; i++) fn(); // warm-up: JIT, caches
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out.sort((a, b) => a - b);
}
const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
const round = (v: number) => Math.round(v * 1000) / 1000;

const identifyTimes: number[] = [];
const parseTimes: number[] = [];
for (const text of texts) {
  const spectrum = readSpectrumFile(text).spectra[0];
  if (!spectrum) throw new Error('fixture without a spectrum');
  identifyTimes.push(...time(() => identify(spectrum)));
  parseTimes.push(...time(() => readSpectrumFile(text)));
}
identifyTimes.sort((a, b) => a - b);
parseTimes.sort((a, b) => a - b);
const cpus = os.cpus();
const result = {
  spectra: FILES.length,
  channels: 1024,
  runs_per_spectrum: runs,
  identify_median_ms: round(q(identifyTimes, 0.5)),
  identify_p99_ms: round(q(identifyTimes, 0.99)),
  identify_max_ms: round(identifyTimes[identifyTimes.length - 1] as number),
  baseline_parse_median_ms: round(q(parseTimes, 0.5)),
  baseline_parse_p99_ms: round(q(parseTimes, 0.99)),
  // Load average at the end: figures from a busy shared machine are not comparable with an idle one.
  machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, loadavg_1m: round(os.loadavg()[0] ?? 0) },
};
if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
else
  process.stdout.write(
    `identify, 1024-channel RC-102 spectra (${FILES.length} files × ${runs} runs): median ${result.identify_median_ms} ms, ` +
      `p99 ${result.identify_p99_ms} ms, max ${result.identify_max_ms} ms (target < 20 ms)\n` +
      `baseline, parsing the same files: median ${result.baseline_parse_median_ms} ms, p99 ${result.baseline_parse_p99_ms} ms\n` +
      `machine: ${result.machine.cpu}, ${result.machine.cores} cores, node ${result.machine.node}, load average ${result.machine.loadavg_1m}\n`,
  );
