/**
 * `--set KEY=VALUE`, as every tool takes it: the pairs parsed once, so a bad one fails before
 * anything runs, and `--ini` printing the tool's sample with them merged in, as upstream does.
 */
import { SkytoolsError } from '../errors.js';

export function parseOverrides(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new SkytoolsError('BAD_OPTION', `--set needs KEY=VALUE, not "${pair}"`, { set: pair });
    }
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  return out;
}

/** The sample with each override replacing its (possibly commented) line, or appended. */
export function withOverrides(sample: string, overrides: Record<string, string>): string {
  let text = sample;
  for (const [key, value] of Object.entries(overrides)) {
    const line = new RegExp(
      `^#?[ \\t]*${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[ \\t]*=.*$`,
      'm',
    );
    text = line.test(text)
      ? text.replace(line, `${key} = ${value}`)
      : `${text.replace(/\n*$/, '\n')}${key} = ${value}\n`;
  }
  return text;
}
