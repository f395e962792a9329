import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { RadscreenError } from '../core/errors.ts';
import { EXIT } from './common.ts';

/** One line of `radscreen identify --json` output (docs/spectroscopy.md §6). */
export interface IdentifyLine {
  file: string;
  format?: string;
  device?: string;
  live_time_s?: number;
  total_counts?: number;
  nuclides?: { nuclide: string; category: string; confidence: number; peaks_kev: number[]; measured_kev: number[] }[];
  calibration?: { offset_percent?: number; ok: boolean };
  /** Where the subtracted background came from: the --background file, or the file's own Background spectrum. */
  background?: string;
  error?: { code: string; message: string };
}

/**
 * Registers `radscreen identify <file>… [--json]`: reads N42.42-2011 or RadiaCode XML spectrum
 * files and prints the nuclides found per file. Exit 0 when every file was read; 2 when any file
 * is unreadable or not a spectrum (the others are still reported).
 */
export function registerIdentifyCommand(program: Command): void {
  program
    .command('identify')
    .description('identify gamma-emitting nuclides in N42.42-2011 or RadiaCode XML spectrum files')
    .argument('<file...>', 'spectrum files (format recognised from the content)')
    .option('--json', 'one JSON object per input file, one per line')
    .option('--background <file>', "background spectrum to subtract (same instrument); default: the file's own Background spectrum, if any")
    .addHelpText(
      'after',
      '\nCategories: NORM (natural), medical, industrial, SNM. Chains are reported under their parent\n' +
        '(Th-232, Ra-226 for the U-238 series). Exit 0 when every file was read, 2 otherwise.\n' +
        'Method, library and limits: docs/spectroscopy.md',
    )
    .action(async (files: string[], flags: { json?: boolean; background?: string }) => {
      const lines = await Promise.all(files.map((f) => identifyFile(f, flags.background)));
      for (const line of lines) {
        if (flags.json) process.stdout.write(`${JSON.stringify(line)}\n`);
        else process.stdout.write(formatHuman(line));
        if (line.error) process.stderr.write(`radscreen identify: ${line.file}: ${line.error.message} (${line.error.code})\n`);
      }
      process.exitCode = lines.some((l) => l.error) ? EXIT.usage : EXIT.ok;
    });
}

/** Reads, parses and identifies one file; every failure becomes an `error` with a stable code. */
export async function identifyFile(file: string, backgroundFile?: string): Promise<IdentifyLine> {
  const { MAX_SPECTRUM_FILE_BYTES, foregroundOf, readSpectrumFile } = await import('../spectra/read.ts');
  const { identify } = await import('../spectra/identify.ts');
  const { totalCounts } = await import('../spectra/spectrum.ts');
  const read = (path: string, what: string): string => {
    try {
      const st = statSync(path);
      if (!st.isFile()) throw new Error('not a regular file');
      if (st.size > MAX_SPECTRUM_FILE_BYTES) throw new Error(`${st.size} bytes, larger than the ${MAX_SPECTRUM_FILE_BYTES}-byte limit`);
      return readFileSync(path, 'utf8');
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      throw new RadscreenError('RS_ERR_CLI_USAGE', `cannot read the ${what}: ${reason}`);
    }
  };
  try {
    const { format, spectra } = readSpectrumFile(read(file, 'file'));
    const spectrum = foregroundOf(spectra);
    if (!spectrum) throw new RadscreenError('RS_ERR_SPECTRUM_INVALID', 'the file holds no spectrum');
    // An explicit background file wins; else a Background layer in the same file (RadiaCode, N42) is used.
    const fromFile = backgroundFile ? readSpectrumFile(read(backgroundFile, 'background file')).spectra : undefined;
    const bg = fromFile
      ? (fromFile.find((s) => s.measurement_class === 'Background') ?? fromFile[0])
      : spectra.find((s) => s !== spectrum && s.measurement_class === 'Background');
    const result = identify(spectrum, bg ? { background: bg } : {});
    return {
      file,
      format,
      device: spectrum.device,
      live_time_s: spectrum.live_time_s,
      total_counts: totalCounts(spectrum),
      nuclides: result.nuclides.map((n) => ({
        nuclide: n.nuclide,
        category: n.category,
        confidence: n.confidence,
        peaks_kev: n.peaks_kev,
        measured_kev: n.measured_kev,
      })),
      calibration: result.calibration,
      ...(bg ? { background: backgroundFile ?? 'in-file' } : {}),
    };
  } catch (e) {
    if (e instanceof RadscreenError) return { file, error: { code: e.code, message: firstLine(e.message) } };
    throw e;
  }
}

const firstLine = (s: string) => (s.length > 600 ? `${s.slice(0, 600)}…` : s);

function formatHuman(line: IdentifyLine): string {
  if (line.error) return `${line.file}: unreadable\n`;
  const head = `${line.file}: ${line.format}, ${line.device}, ${line.live_time_s} s, ${line.total_counts} counts`;
  const drift =
    line.calibration && !line.calibration.ok
      ? `\n  warning: energy calibration off by ${line.calibration.offset_percent} % (recalibrate)`
      : '';
  if (!line.nuclides || line.nuclides.length === 0) return `${head}\n  no nuclide identified${drift}\n`;
  const rows = line.nuclides.map(
    (n) => `  ${n.nuclide.padEnd(7)} ${n.category.padEnd(10)} confidence ${n.confidence.toFixed(2)}  peaks ${n.peaks_kev.join(', ')} keV`,
  );
  return `${head}\n${rows.join('\n')}${drift}\n`;
}
