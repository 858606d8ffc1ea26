import { SkytoolsError } from '../../errors.js';

/** A command that acts on named objects needs at least one name. */
export function needNames(command: string, what: string, words: readonly string[]): void {
  if (words.length === 0)
    throw new SkytoolsError('USAGE', `${command} needs ${what} names`, { command });
}
