/**
 * The obfuscate handler's rules (spec §6.5), per column: `keep` the value, `skip` the column
 * (the default for a column the map does not name), `bool` (only whether it is true),
 * `hash` (a uuid-format string), `hash32` and `hash64` (signed integers), or a map of rules
 * for a JSON column's keys (nested as deep as the document). The hashes are keyed BLAKE2s
 * of the value's UTF-8 text with `obfuscator_key` (digest of 16, 4 and 8 bytes, read as a
 * uuid or big-endian signed integers), so every node with the same key turns the same value
 * into the same result, and nobody without it can hash guesses to match.
 */
import { createRequire } from 'node:module';
import { SkytoolsError } from '../../../errors.js';

// Loaded by the first Obfuscator, synchronously (require of an ES module, Node 20.19+):
// every process that knows the handlers, the worker included, starts without it.
const require = createRequire(import.meta.url);
let blake2s: typeof import('@noble/hashes/blake2.js')['blake2s'] | undefined;

export const scalarRules = ['keep', 'skip', 'bool', 'hash', 'hash32', 'hash64'] as const;
export type ScalarRule = (typeof scalarRules)[number];
export type Rule = ScalarRule | RuleMap;
export interface RuleMap {
  readonly [key: string]: Rule;
}

const encoder = new TextEncoder();

/** The words PostgreSQL reads as false (boolean input), in lower case. */
const falseWords = new Set(['f', 'false', 'n', 'no', 'off', '0', 'fa', 'fal', 'fals']);

/** A JSON value whose hash64 numbers keep every digit. */
type Out = string | number | boolean | bigint | null | Out[] | { [key: string]: Out };

export class Obfuscator {
  readonly #key: Uint8Array;

  constructor(key: string) {
    this.#key = encoder.encode(key);
    blake2s ??= (require('@noble/hashes/blake2.js') as typeof import('@noble/hashes/blake2.js'))
      .blake2s;
  }

  #digest(text: string, length: number): Uint8Array {
    return (blake2s as NonNullable<typeof blake2s>)(encoder.encode(text), {
      dkLen: length,
      key: this.#key,
    });
  }

  hash(text: string): string {
    const hex = Buffer.from(this.#digest(text, 16)).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  hash32(text: string): number {
    return Buffer.from(this.#digest(text, 4)).readInt32BE(0);
  }

  hash64(text: string): bigint {
    return Buffer.from(this.#digest(text, 8)).readBigInt64BE(0);
  }

  /**
   * One column's value (text, as the row carries it) under a rule other than `skip`; NULL
   * stays NULL. `where` names the column in errors.
   */
  column(rule: Exclude<Rule, 'skip'>, value: string | null, where: string): string | null {
    if (value === null) return null;
    if (typeof rule === 'object') {
      let doc: unknown;
      try {
        doc = JSON.parse(value);
      } catch {
        throw new SkytoolsError(
          'BAD_EVENT',
          `obfuscate: ${where} is not JSON, but its rule is a map`,
          {
            column: where,
          },
        );
      }
      const out = this.#json(rule, doc);
      return out === undefined ? null : jsonText(out);
    }
    switch (rule) {
      case 'keep':
        return value;
      case 'bool':
        return isTrue(value) ? 't' : 'f';
      case 'hash':
        return this.hash(value);
      case 'hash32':
        return String(this.hash32(value));
      case 'hash64':
        return String(this.hash64(value));
    }
  }

  /** A JSON value under a rule; undefined = left out. */
  #json(rule: Rule, value: unknown): Out | undefined {
    if (value === null || value === undefined) return rule === 'skip' ? undefined : null;
    if (typeof rule === 'object') {
      if (typeof value !== 'object' || Array.isArray(value)) return undefined;
      const out: { [key: string]: Out } = {};
      for (const [key, sub] of Object.entries(rule)) {
        if (!Object.hasOwn(value, key)) continue;
        const got = this.#json(sub, (value as Record<string, unknown>)[key]);
        if (got !== undefined) out[key] = got;
      }
      return out;
    }
    if (rule === 'skip') return undefined;
    if (rule === 'keep') return value as Out;
    // The others take scalars; a nested object or array under them is left out.
    if (typeof value === 'object') return undefined;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    switch (rule) {
      case 'bool':
        return typeof value === 'boolean'
          ? value
          : typeof value === 'number'
            ? value !== 0
            : isTrue(text);
      case 'hash':
        return this.hash(text);
      case 'hash32':
        return this.hash32(text);
      case 'hash64':
        return this.hash64(text);
    }
  }
}

function isTrue(text: string): boolean {
  const word = text.trim().toLowerCase();
  return word !== '' && !falseWords.has(word);
}

/** JSON text of a value whose bigints (hash64) are written as numbers with every digit. */
function jsonText(value: Out): string {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`)
    .join(',')}}`;
}

/** A rule as read from the map, checked; `where` is its path for the error. */
export function checkRule(rule: unknown, where: string, file: string): Rule {
  if (typeof rule === 'string' && (scalarRules as readonly string[]).includes(rule)) {
    return rule as ScalarRule;
  }
  if (rule !== null && typeof rule === 'object' && !Array.isArray(rule)) {
    const out: Record<string, Rule> = {};
    for (const [key, sub] of Object.entries(rule))
      out[key] = checkRule(sub, `${where}.${key}`, file);
    return out;
  }
  throw new SkytoolsError(
    'BAD_CONFIG',
    `obfuscator_map ${file}: ${where}: invalid rule ${JSON.stringify(rule)} (keep, skip, bool, hash, hash32, hash64 or a map of them)`,
    { file, rule: where },
  );
}
