import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import { RadscreenError } from '../core/errors.ts';

/** PEM certificate chain and private key, as Node's TLS server takes them. */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/**
 * Reads `server.tls.cert` and `.key` (paths relative to the working directory, like data_dir)
 * at start, so a missing or unreadable file stops the server with the key's name instead of a
 * console that silently serves plain HTTP. Undefined when TLS is not configured.
 * @throws RadscreenError RS_ERR_CONFIG_INVALID naming the key and the file.
 */
export function loadTlsFiles(tls: Config['server']['tls']): TlsFiles | undefined {
  if (!tls) return undefined;
  const read = (key: 'cert' | 'key') => {
    try {
      return readFileSync(tls[key]);
    } catch (err) {
      throw new RadscreenError(
        'RS_ERR_CONFIG_INVALID',
        `server.tls.${key}: cannot read ${tls[key]} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
  };
  return { cert: read('cert'), key: read('key') };
}
