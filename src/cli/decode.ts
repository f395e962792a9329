import { createReadStream, readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { ErrorCode } from '../core/errors.ts';
import { IdSchema, type Reading } from '../core/reading.ts';
import { EXIT } from './common.ts';

/** Reject messages printed on stderr before the summary; the rest are only counted. */
const SHOWN_REJECTS = 10;

interface DecodeFlags {
  profile: string;
  station: string;
  device?: string;
  option: Record<string, unknown>;
  strict?: boolean;
  stored?: boolean;
}

/**
 * Registers `radscreen decode --profile <id> [file|-]`: bytes through the profile's session and
 * the normaliser, one canonical reading per line (NDJSON) on stdout, `accepted N, rejected M`
 * and counts per reject code on stderr. Exit 0; 1 with --strict when anything was rejected or
 * the input yielded nothing at all (warned without --strict, with a --stored hint where it applies);
 * 2 for an unknown profile, bad options or an unreadable file.
 */
export function registerDecodeCommand(program: Command): void {
  program
    .command('decode')
    .description('decode a capture or log offline through a device profile; prints canonical readings as NDJSON')
    .requiredOption('-p, --profile <id>', 'device profile id (see `radscreen devices`) or file format (ansi-n42)')
    .argument('[file]', 'input file, or - for stdin', '-')
    .option('--station <id>', 'station id stamped on the readings', 'local')
    .option('--device <id>', "device id stamped on the readings (default: the file's instrument id, else the profile id)")
    .option('-o, --option <key=value>', 'profile option, repeatable (e.g. sensitivity=175)', collectOption, {})
    .option('--strict', 'exit 1 when any frame or reading was rejected')
    .option(
      '--stored',
      'the file is one the instrument stored itself (GMC history dump, Rad Pro datalog, bGeigie SD log), not a captured stream',
    )
    .action(async (file: string, flags: DecodeFlags) => {
      const code = await runDecode(file, flags);
      process.exitCode = code;
    });
}

async function runDecode(file: string, flags: DecodeFlags): Promise<number> {
  const { resolveDecodeSource, decodeSourceIds } = await import('../importers/formats.ts');
  const { decodeStream, validateOptions } = await import('../importers/decode-stream.ts');
  const source = resolveDecodeSource(flags.profile);
  if (!source) usage(`unknown profile '${flags.profile}' (RS_ERR_UNKNOWN_PROFILE); known profiles:`, decodeSourceIds());
  if (flags.stored && !source.decodeFile)
    usage(
      `${source.id} has no stored-file format (RS_ERR_CLI_USAGE); --stored works for:`,
      decodeSourceIds().filter((id) => resolveDecodeSource(id)?.decodeFile),
    );
  const checked = validateOptions(source, flags.option);
  if (!checked.ok) usage(`invalid --option for ${source.id} (RS_ERR_CLI_USAGE):`, checked.problems);
  const station = checkId('--station', flags.station);
  const input = openInput(file);
  const peeked = source.identify && !flags.device ? peekFile(file) : undefined;
  const device = checkId('--device', flags.device ?? (peeked && source.identify?.(peeked)?.device) ?? source.id);

  const shown: string[] = [];
  const summary = await decodeStream({
    source,
    input: input.chunks,
    origin: { station, device, source: 'replay' },
    options: checked.options,
    stored: Boolean(flags.stored),
    onReadings: (readings) => writeNdjson(readings),
    onReject: (r) => {
      if (shown.length < SHOWN_REJECTS) shown.push(`${r.code}: ${r.message}`);
    },
  });
  for (const line of shown) process.stderr.write(`reject ${line}\n`);
  if (summary.rejected > shown.length) process.stderr.write(`… ${summary.rejected - shown.length} more rejects not shown\n`);
  process.stderr.write(formatSummary(summary));
  // Nothing at all out of a non-empty input is almost always the wrong profile or a stored file
  // read as a stream: say so, and under --strict fail, rather than report a clean 0/0.
  const empty = summary.accepted === 0 && summary.rejected === 0 && input.size !== 0;
  if (empty) {
    const hint =
      source.decodeFile && !flags.stored ? `; if ${source.id} stored this file itself (history dump, datalog, SD log), add --stored` : '';
    process.stderr.write(`radscreen: warning: ${input.name} yielded no readings and no rejects with profile ${source.id}${hint}\n`);
  }
  return flags.strict && (summary.rejected > 0 || empty) ? EXIT.failure : EXIT.ok;
}

/** `accepted N, rejected M` then one `  CODE: n` line per reject code, most frequent first. */
export function formatSummary(s: { accepted: number; rejected: number; rejectsByCode: Partial<Record<ErrorCode, number>> }): string {
  const codes = Object.entries(s.rejectsByCode).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0));
  return `accepted ${s.accepted}, rejected ${s.rejected}\n${codes.map(([c, n]) => `  ${c}: ${n}\n`).join('')}`;
}

/** One JSON object per line; waits for stdout to drain so a big file does not pile up in memory. */
async function writeNdjson(readings: Reading[]): Promise<void> {
  const text = readings.map((r) => JSON.stringify(r)).join('\n');
  if (!process.stdout.write(`${text}\n`)) await new Promise<void>((r) => process.stdout.once('drain', () => r()));
}

// Shared with `radscreen import` (import.ts).

/** Commander collector for repeated `--option key=value`; values are JSON when they parse (numbers, booleans), else text. */
export function collectOption(pair: string, previous: Record<string, unknown>): Record<string, unknown> {
  const eq = pair.indexOf('=');
  if (eq < 1) usage(`--option wants key=value, got '${pair}'`);
  const key = pair.slice(0, eq);
  const text = pair.slice(eq + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: keep the text, e.g. `timezone=Europe/Berlin`.
  }
  return { ...previous, [key]: value };
}

/** Prints `radscreen: message` and exits 2 (bad usage). */
export function usage(message: string, extra: string[] = []): never {
  process.stderr.write(`radscreen: ${message}\n`);
  for (const line of extra) process.stderr.write(`  ${line}\n`);
  process.exit(EXIT.usage);
}

/** A station or device id as topics and tags need it, or exit 2 naming the flag. */
export function checkId(flag: string, value: string): string {
  if (!IdSchema.safeParse(value).success) usage(`${flag} '${value}': use letters, digits, _ . - (max 64, no / + # or spaces)`);
  return value;
}

/** The input as chunks: a file (with its size, for progress), or stdin for `-`. */
export function openInput(path: string): { chunks: AsyncIterable<Buffer>; size?: number; name: string } {
  if (path === '-') return { chunks: process.stdin, name: 'stdin' };
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) usage(`${path}: not a regular file`);
    size = st.size;
  } catch (e) {
    usage(`cannot read ${path}: ${(e as Error).message}`);
  }
  return { chunks: createReadStream(path, { highWaterMark: 64 * 1024 }), size, name: path };
}

/** Whole file for format identification (N42 files are small); undefined for stdin. */
export function peekFile(path: string): Buffer | undefined {
  return path === '-' ? undefined : readFileSync(path);
}
