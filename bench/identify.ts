/**
 * `npm run bench:identify`: time to identify one 1024-channel spectrum (target < 20 ms, docs/spectroscopy.md §7).
 * Baseline in the same run: the time to parse the same file (XML → Spectrum), so figures from a
 * busy shared machine can be judged against something. Prints figures; asserts nothing.
 * Flags: --runs N (default 500 per spectrum), --json.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { isReject } from '../devices/radiacode/protocol.ts';
import { decodeSpectrum } from '../devices/radiacode/spectrum.ts';
import { createRadiacodeSimulator } from '../simulators/radiacode.ts';
import type { SourceNuclide } from '../simulators/radiacode-physics.ts';
import type { Clock } from '../src/core/clock.ts';
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

/**
 * Spectra the RadiaCode simulator accumulates (600 device seconds, 0.1 µSv/h background plus
 * 0.5 µSv/h of a source), read from its bytes and decoded by the family's decoder. Each is a
 * different Poisson draw, so the timing is not one spectrum's best case.
 */
function simulatedSpectra(): { counts: number[]; calibration: number[]; live_time_s: number }[] {
  const out: { counts: number[]; calibration: number[]; live_time_s: number }[] = [];
  const sources: (SourceNuclide | undefined)[] = [undefined, 'Cs-137', 'I-131', 'Co-60', 'Am-241', 'Tc-99m'];
  for (const [k, source] of sources.entries())
    for (let seed = 1; seed <= 5; seed++) {
      const ticks: (() => void)[] = [];
      const clock: Clock = {
        now: () => 0,
        setInterval: (fn) => ticks.push(fn),
        clearInterval() {},
        setTimeout: () => 0,
        clearTimeout() {},
      };
      let listener: (b: Buffer) => void = () => {};
      let reply: Buffer = Buffer.alloc(0);
      const events = source ? [{ at_s: 0, duration_s: 1e6, peak_usvh: 0.5, shape: 'step' as const }] : [];
      const sim = createRadiacodeSimulator(
        {
          write: (b) => {
            reply = b;
          },
          onData: (l) => {
            listener = l;
          },
        },
        { background_usvh: 0.1, events, seed: 100 * k + seed, tick_ms: 1000, clock },
      );
      if (source) sim.setSource(source);
      sim.start();
      for (let t = 0; t < 600; t++) for (const f of ticks) f();
      // RD_VIRT_STRING SPECTRUM (0x0826, id 0x200); the reply's data starts after 16 bytes of framing.
      listener(Buffer.from('080000002608008000020000', 'hex'));
      const data = decodeSpectrum(reply.subarray(16), 1);
      if (isReject(data)) throw new Error(data.message);
      out.push(data);
    }
  return out;
}

const identifyTimes: number[] = [];
const parseTimes: number[] = [];
for (const text of texts) {
  const spectrum = readSpectrumFile(text).spectra[0];
  if (!spectrum) throw new Error('fixture without a spectrum');
  identifyTimes.push(...time(() => identify(spectrum)));
  parseTimes.push(...time(() => readSpectrumFile(text)));
}
const simulated = simulatedSpectra();
const simulatedTimes: number[] = [];
for (let round = 0; round < Math.ceil(runs / 10); round++) for (const sp of simulated) simulatedTimes.push(...time1(() => identify(sp)));
function time1(fn: () => unknown): number[] {
  const t0 = process.hrtime.bigint();
  fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6];
}
simulatedTimes.sort((a, b) => a - b);
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
  simulated_spectra: simulated.length,
  simulated_identifications: simulatedTimes.length,
  simulated_median_ms: round(q(simulatedTimes, 0.5)),
  simulated_p99_ms: round(q(simulatedTimes, 0.99)),
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
      `identify, ${simulated.length} simulated RadiaCode spectra (different Poisson draws) × ${Math.ceil(runs / 10)} rounds: median ${result.simulated_median_ms} ms, p99 ${result.simulated_p99_ms} ms\n` +
      `baseline, parsing the same files: median ${result.baseline_parse_median_ms} ms, p99 ${result.baseline_parse_p99_ms} ms\n` +
      `machine: ${result.machine.cpu}, ${result.machine.cores} cores, node ${result.machine.node}, load average ${result.machine.loadavg_1m}\n`,
  );
