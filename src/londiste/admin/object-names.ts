/**
 * The names a table or sequence command acts on, by upstream's rules: a word is a stored
 * name (`schema.name`, case kept, `public` when no schema) or a glob over the available
 * names; a name already done is skipped ("X already processed"), one not available is
 * refused ("X not available", then "Cannot proceed") unless forced or skipped, and with
 * nothing left the command says "what to do ?" and changes nothing. A glob that matches
 * nothing at all is refused (upstream ignores it silently; here it is bad input).
 */
import type { AdminOutput } from '../../cascade/admin/session.js';
import { SkytoolsError } from '../../errors.js';
import { fqname, globMatcher, isGlob } from '../table-names.js';

export interface NameRules {
  kind: 'table' | 'sequence';
  /** What the words may name. */
  available: readonly string[];
  /** Names the command has nothing to do for. */
  done: ReadonlySet<string>;
  /** `--all`: every available name not done. */
  all?: boolean;
  /** What `--all` takes, when not every available name (a replica: its own set's names). */
  allFrom?: readonly string[];
  /** `--force`: keep names that are not available. */
  force?: boolean;
  /** `--skip-non-existing`: drop them with a warning. */
  skipMissing?: boolean;
}

export function resolveNames(
  out: AdminOutput,
  words: readonly string[],
  rules: NameRules,
): string[] {
  const available = new Set(rules.available);
  const wanted: string[] = [];
  const missing: string[] = [];
  if (rules.all) {
    const all = rules.allFrom ?? [...available];
    wanted.push(...all.filter((name) => !rules.done.has(name)).sort());
  }
  for (const word of words) {
    if (word === '') throw new SkytoolsError('USAGE', `empty ${rules.kind} name`);
    if (isGlob(word)) {
      const match = globMatcher(word);
      const found = [...available].filter((name) => match(name)).sort();
      const all = found.length > 0 || [...rules.done].some((name) => match(name));
      if (!all) {
        throw new SkytoolsError('USAGE', `no ${rules.kind} matches "${word}"`, { pattern: word });
      }
      wanted.push(...found);
      continue;
    }
    const name = fqname(word);
    if (available.has(name) || rules.done.has(name)) wanted.push(name);
    else if (rules.force) {
      out.warn(`${name} not available, but --force is used`);
      wanted.push(name);
    } else if (rules.skipMissing) out.warn(`${name} not available, skipping`);
    else {
      out.warn(`${name} not available`);
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    throw new SkytoolsError('USAGE', `Cannot proceed: ${missing.join(', ')} not available`, {
      names: missing,
    });
  }
  const result: string[] = [];
  for (const name of new Set(wanted)) {
    if (rules.done.has(name)) out.info(`${name} already processed`);
    else result.push(name);
  }
  if (result.length === 0) out.info('what to do ?');
  return result;
}
