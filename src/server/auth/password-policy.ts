import { readFileSync } from 'node:fs';
import { AccountError } from './account-error.ts';

/**
 * Rules for passwords a person chooses (generated ones are 24 random characters and pass).
 * The rules follow NIST SP 800-63B: a minimum length, no composition rules, and a check
 * against a list of commonly used passwords and context-specific words (docs/accounts.md).
 */
export interface PasswordPolicy {
  /** Minimum length in characters (Unicode code points); at least 8. Default 12. */
  minLength: number;
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = { minLength: 12 };
/** Longer inputs are refused before hashing: scrypt time must not depend on an attacker's payload. */
export const MAX_PASSWORD_LENGTH = 1024;

/** Words that are common for this product whatever the list says: its name and the roles. */
const CONTEXT_WORDS = ['radscreen', 'operator', 'technician', 'trainer', 'admin', 'administrator', 'station', 'screening'];

/** Keyboard rows and counting runs: any substring of these is refused. */
const SEQUENCES = [
  '01234567890123456789',
  '98765432109876543210',
  'abcdefghijklmnopqrstuvwxyz',
  'zyxwvutsrqponmlkjihgfedcba',
  'qwertyuiopasdfghjklzxcvbnm',
  'mnbvcxzlkjhgfdsapoiuytrewq',
  'qwertzuiopasdfghjklyxcvbnm',
  'azertyuiopqsdfghjklmwxcvbn',
];

let blocklist: Set<string> | undefined;

/** The shipped list (src/server/auth/common-passwords.txt), lower-cased; read once on first use. */
function commonPasswords(): Set<string> {
  blocklist ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .map((l) => l.trim().toLowerCase())
      .filter((l) => l.length > 0 && !l.startsWith('#')),
  );
  return blocklist;
}

/**
 * Why `password` is not acceptable, or undefined when it is. Besides the length, a password is
 * refused when, lower-cased, it is on the common list, or is such a word with digits and symbols
 * around it (`Password123!`, `2026radscreen`), or is built from the user name or a product word
 * repeated (`adminadmin`), or is a keyboard/counting run, or uses fewer than 5 distinct characters.
 */
export function passwordProblem(password: string, opts: { userName?: string; policy?: PasswordPolicy } = {}): string | undefined {
  const policy = opts.policy ?? DEFAULT_PASSWORD_POLICY;
  const length = [...password].length;
  if (length < policy.minLength) return `a password needs at least ${policy.minLength} characters (this one has ${length})`;
  if (password.length > MAX_PASSWORD_LENGTH) return `a password may have at most ${MAX_PASSWORD_LENGTH} characters`;
  const lower = password.toLowerCase();
  // The word inside its decoration: `P@ssword!2024` → `p@ssword`; whole-number passwords keep their digits.
  const core = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '') || lower;
  const list = commonPasswords();
  if (list.has(lower) || list.has(core)) return 'this password is on the list of commonly used passwords';
  const context = [...CONTEXT_WORDS, ...(opts.userName ? [opts.userName.toLowerCase()] : [])];
  for (const word of context) {
    if (word.length === 0) continue;
    // `adminadmin`, `radscreen2026!`, `operator.operator`: the word, repeated or decorated.
    const rest = lower
      .split(word)
      .join('')
      .replace(/[^\p{L}]/gu, '');
    if (lower.includes(word) && rest.length === 0) return `a password must not be made of the user name or the word '${word}'`;
  }
  if (SEQUENCES.some((s) => s.includes(lower))) return 'a password must not be a keyboard row or a counting sequence';
  if (new Set(password).size < 5) return 'a password needs at least 5 different characters';
  return undefined;
}

/** Throws AccountError RS_ERR_PASSWORD_WEAK (HTTP 422) with the reason when `passwordProblem` finds one. */
export function assertPasswordAcceptable(password: string, opts: { userName?: string; policy?: PasswordPolicy } = {}): void {
  const problem = passwordProblem(password, opts);
  if (problem) throw new AccountError('RS_ERR_PASSWORD_WEAK', 422, problem);
}
