/**
 * One statement in, its output out: the command whose grammar matches, run on the session.
 * Nothing matching is one line naming where the statement went wrong and what could come
 * there; a server or usage failure is one line too, and the console goes on.
 */
import { fromDatabaseError } from '../db/database-error.js';
import { SkytoolsError } from '../errors.js';
import type { CommandOutput } from './commands/command.js';
import { commands } from './commands/index.js';
import { describeTerminal, matchGrammar, type Terminal } from './grammar.js';
import { lexStatement } from './lexer.js';
import type { QadminSession } from './session.js';

export async function runStatement(session: QadminSession, text: string): Promise<CommandOutput> {
  const tokens = lexStatement(text);
  let furthest = -1;
  let expected: Terminal[] = [];
  for (const command of commands) {
    const result = matchGrammar(command.grammar, tokens, text);
    const args = result.complete[0];
    if (args !== undefined) {
      try {
        const output = await command.run(session, args);
        return typeof output === 'string' ? { text: output } : output;
      } catch (error) {
        throw fromDatabaseError(error);
      }
    }
    if (result.furthest > furthest) {
      furthest = result.furthest;
      expected = [];
    }
    if (result.furthest === furthest) expected.push(...result.expected);
  }
  throw syntaxError(text, tokens, furthest, expected);
}

function syntaxError(
  text: string,
  tokens: ReturnType<typeof lexStatement>,
  at: number,
  expected: Terminal[],
): SkytoolsError {
  const wanted = [...new Set(expected.map(describeTerminal))];
  const list =
    wanted.length <= 1
      ? (wanted[0] ?? 'nothing')
      : `${wanted.slice(0, -1).join(', ')} or ${wanted.at(-1)}`;
  const token = tokens[at];
  if (at <= 0) {
    return new SkytoolsError(
      'USAGE',
      `unknown command "${tokens[0]?.value ?? text}"; "show help;" lists the commands`,
    );
  }
  if (wanted.length === 0 && token !== undefined) {
    return new SkytoolsError(
      'USAGE',
      `syntax error at "${token.value}": the command ends before it`,
    );
  }
  if (token === undefined) {
    return new SkytoolsError('USAGE', `incomplete command "${text}": expected ${list}`);
  }
  return new SkytoolsError('USAGE', `syntax error at "${token.value}": expected ${list}`);
}
