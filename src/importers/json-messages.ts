/**
 * Offline framing for message profiles (JSON payloads that arrive one per MQTT message live).
 * A file holds either JSON Lines (one payload per line) or one JSON document, possibly spread
 * over many lines. Read chunk by chunk (64 KiB from a file), each chunk pushed as a "message"
 * would cut payloads apart, and a final empty push would count a reject that is not in the file.
 *
 * Rule: if the first non-empty line is itself valid JSON, the file is JSON Lines: every
 * non-empty line is one message (a bad line is one reject). Otherwise, when that line opens a
 * document (`{` or `[`), the whole input is one message; anything else falls back to lines.
 */
export function createJsonMessageFramer(push: (message: Buffer) => void): { write(chunk: Buffer): void; end(): void } {
  let mode: 'undecided' | 'lines' | 'document' = 'undecided';
  let carry = '';
  const parses = (text: string) => {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  };
  const line = (text: string) => {
    const t = text.trim();
    if (t) push(Buffer.from(t, 'utf8'));
  };
  const decide = (firstLine: string): 'lines' | 'document' => {
    const t = firstLine.trim();
    return parses(t) || !/^[[{]/.test(t) ? 'lines' : 'document';
  };
  return {
    write(chunk) {
      carry += chunk.toString('utf8');
      if (mode === 'document') return;
      // Walk the lines by index and cut the carry once: slicing per line would copy the rest
      // of a 64 KiB chunk for every line.
      let from = 0;
      for (let nl = carry.indexOf('\n', from); nl >= 0; nl = carry.indexOf('\n', from)) {
        const text = carry.slice(from, nl);
        if (mode === 'undecided' && text.trim()) {
          mode = decide(text);
          if (mode === 'document') {
            carry = carry.slice(from);
            return;
          }
        }
        line(text);
        from = nl + 1;
      }
      carry = carry.slice(from);
    },
    end() {
      if (mode === 'document') line(carry);
      else if (carry.trim()) line(carry);
      carry = '';
    },
  };
}
