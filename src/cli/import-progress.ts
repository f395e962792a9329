/**
 * `radscreen import` progress on stderr, driven by a timer rather than by input chunks: a stored
 * file is read in one go and then decoded and stored for seconds, during which no chunk arrives
 * (the 0 % … silence … 100 % the progress used to show). On a TTY one line is rewritten four
 * times a second; otherwise (a log, a pipe, CI) one line every 5 s.
 */
export interface ProgressState {
  /** Input bytes read so far. */
  bytes: number;
  /** Readings handed to the sink so far. */
  readings: number;
}

/** `import: 42% 1.2 MB, 120000 readings, 40000/s, ETA 3 s` from the state, the input size and the elapsed time. */
export function formatProgress(s: ProgressState, size: number | undefined, elapsedMs: number): string {
  const seconds = Math.max(elapsedMs, 1) / 1000;
  const rate = Math.round(s.readings / seconds);
  const parts = [`${s.readings} readings`, `${rate}/s`];
  if (size) {
    const fraction = Math.min(1, s.bytes / size);
    parts.unshift(`${Math.floor(fraction * 100)}% of ${formatBytes(size)}`);
    // The ETA follows the bytes while they are being read; once all are read it is unknown
    // (stored files are decoded after reading), and saying so beats a wrong number.
    if (fraction > 0 && fraction < 1) parts.push(`ETA ${Math.ceil(seconds * (1 / fraction - 1))} s`);
  } else parts.unshift(formatBytes(s.bytes));
  return `import: ${parts.join(', ')}`;
}

function formatBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}

export function startProgress(opts: {
  size: number | undefined;
  state: () => ProgressState;
  out?: NodeJS.WriteStream;
  now?: () => number;
}): { stop(): void } {
  const out = opts.out ?? process.stderr;
  const now = opts.now ?? Date.now;
  const started = now();
  const tty = Boolean(out.isTTY);
  const print = (final: boolean) => {
    const line = formatProgress(opts.state(), opts.size, now() - started) + (final ? ', done' : '');
    out.write(tty ? `\r\x1b[K${line}${final ? '\n' : ''}` : `${line}\n`);
  };
  const timer = setInterval(() => print(false), tty ? 250 : 5000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      print(true);
    },
  };
}
