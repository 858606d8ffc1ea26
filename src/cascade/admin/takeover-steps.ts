/**
 * The step runner of takeover and resurrect. These are long operations over several
 * databases with no transaction around them, so a failure midway leaves the cascade half
 * changed. Each step therefore says what it is before it runs (a progress line an operator
 * watches), and on a failure the runner prints which steps were done, the failed and
 * remaining steps as commands to run by hand to finish, and, while the change can still be
 * taken back, how to undo the done ones.
 */
import { quoteLiteral } from '../../db/quote.js';
import { CascadeError } from '../node-calls.js';
import type { AdminSession } from './session.js';

export interface Step {
  /** One line: what the step does, on which node. */
  title: string;
  run(): Promise<void>;
  /** How to do this step by hand (a command or SQL on a named node), if it stopped before it. */
  manual?(): string;
  /** How to take this step back once done; absent = nothing to undo. */
  undo?(): string;
  /** From this step on the change cannot be taken back, only finished. */
  pointOfNoReturn?: boolean;
}

/** A takeover or resurrect that stopped midway; the report is on stderr, the summary here. */
export class TakeoverError extends CascadeError {}

export async function runSteps(session: AdminSession, what: string, steps: Step[]): Promise<void> {
  const done: Step[] = [];
  for (const [index, step] of steps.entries()) {
    session.out.info(`${what}: step ${index + 1}/${steps.length}: ${step.title}`);
    try {
      await step.run();
    } catch (error) {
      reportFailure(session, what, done, steps.slice(index));
      throw new TakeoverError(
        'TAKEOVER_STOPPED',
        `${what} stopped at step ${index + 1}/${steps.length} (${step.title}): ${(error as Error).message}; ${done.length} step(s) were done (see above for how to finish or undo)`,
        {
          queue: session.queue,
          step: index + 1,
          title: step.title,
          done: done.map((d) => d.title),
        },
        { cause: error },
      );
    }
    done.push(step);
  }
  session.out.info(`${what}: done (${steps.length} steps)`);
}

function reportFailure(session: AdminSession, what: string, done: Step[], left: Step[]): void {
  const out = session.out;
  out.warn(`${what} failed; the cascade is partly changed.`);
  if (done.length === 0) {
    out.warn('No step was done: nothing changed.');
  } else {
    out.warn('Steps done:');
    for (const step of done) out.warn(`  done: ${step.title}`);
  }
  out.warn('To finish, fix the cause and run the remaining steps in this order:');
  for (const step of left) out.warn(`  ${step.manual?.() ?? step.title}`);
  const undoable = !done.some((step) => step.pointOfNoReturn);
  const undo = done
    .slice()
    .reverse()
    .flatMap((step) => (step.undo ? [step.undo()] : []));
  if (undo.length === 0) return;
  if (undoable) {
    out.warn('Or, to undo what was done, in this order:');
    for (const line of undo) out.warn(`  ${line}`);
  } else {
    out.warn('The new root is already promoted: finish the steps above rather than undo them.');
  }
}

/** `on node N: select * from fn('a', 2)`: the manual form of a pgq_node call. */
export function sqlOn(node: string, fn: string, args: (string | number | null)[]): string {
  const values = args.map((a) => (typeof a === 'number' ? String(a) : quoteLiteral(a)));
  return `on node ${node}: select * from ${fn}(${values.join(', ')});`;
}

/** The admin command line for a step an operator repeats by hand. */
export function setadm(args: string): string {
  return `setadm <config.ini> ${args}`;
}
