/**
 * The two ways qadmin runs statements: a script (`-c`, `-f`), which stops at the first
 * error and fails, and the console (node:readline), which prints the error and goes on,
 * with history in ~/.qadmin_history and Tab completion. Output goes to stdout, errors as
 * one `ERROR: ...` line to stderr.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { complete } from './completion.js';
import { runStatement } from './dispatch.js';
import { splitStatements } from './lexer.js';
import type { QadminSession } from './session.js';

export interface ConsoleIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  error: NodeJS.WritableStream;
}

const stdio: ConsoleIo = { input: process.stdin, output: process.stdout, error: process.stderr };

function printError(io: ConsoleIo, error: unknown): void {
  io.error.write(`ERROR: ${(error as Error)?.message ?? String(error)}\n`);
}

/** Run `text` statement by statement (the last `;` may be left out); resolves with the exit code. */
export async function runScript(session: QadminSession, text: string, io = stdio): Promise<number> {
  const { statements, rest } = splitStatements(text);
  if (rest.trim() !== '') statements.push(rest.trim());
  for (const statement of statements) {
    try {
      const output = await runStatement(session, statement);
      if (output.text !== '')
        io.output.write(output.text.endsWith('\n') ? output.text : `${output.text}\n`);
      if (output.exit) return 0;
    } catch (error) {
      printError(io, error);
      return 1;
    }
  }
  return 0;
}

export interface ConsoleOptions {
  /** History file; default ~/.qadmin_history. */
  historyFile?: string;
  io?: ConsoleIo;
}

const historySize = 500;

function loadHistory(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(-historySize).reverse();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * The console: reads lines until `exit;` or end of input. Resolves with 0, or with 1 when
 * input was not a terminal (a pipe) and some statement failed.
 */
export async function runConsole(
  session: QadminSession,
  options: ConsoleOptions = {},
): Promise<number> {
  const io = options.io ?? stdio;
  const historyFile = options.historyFile ?? path.join(os.homedir(), '.qadmin_history');
  const terminal = (io.input as { isTTY?: boolean }).isTTY === true;
  let pending = '';
  const rl = readline.createInterface({
    input: io.input,
    output: io.output,
    terminal,
    history: terminal ? loadHistory(historyFile) : [],
    historySize,
    completer: (
      line: string,
      callback: (err: null | Error, result: [string[], string]) => void,
    ) => {
      // A statement continued from earlier lines completes as a whole.
      complete(session, `${pending}${line}`).then(
        (result) => callback(null, result),
        () => callback(null, [[], line]),
      );
    },
  });
  let failed = false;
  const prompt = () => {
    rl.setPrompt(`${session.database}${pending.trim() === '' ? '=>' : '->'} `);
    // Keep the cursor where it is: the user may have typed ahead while the statement ran.
    if (terminal) rl.prompt(true);
  };
  if (terminal) io.output.write('qadmin: type "show help;" for commands, "exit;" to leave\n');
  prompt();
  for await (const line of rl) {
    if (terminal && line.trim() !== '') {
      try {
        appendFileSync(historyFile, `${line}\n`);
      } catch (error) {
        io.error.write(
          `WARNING: cannot write history file ${historyFile}: ${(error as Error).message}\n`,
        );
      }
    }
    const { statements, rest } = splitStatements(`${pending}${line}\n`);
    pending = rest.trim() === '' ? '' : rest;
    for (const statement of statements) {
      try {
        const output = await runStatement(session, statement);
        if (output.text !== '')
          io.output.write(output.text.endsWith('\n') ? output.text : `${output.text}\n`);
        if (output.exit) {
          rl.close();
          return failed && !terminal ? 1 : 0;
        }
      } catch (error) {
        failed = true;
        printError(io, error);
      }
    }
    prompt();
  }
  if (pending.trim() !== '') {
    io.error.write(
      `ERROR: incomplete statement at end of input (missing ";"): ${pending.trim()}\n`,
    );
    failed = true;
  }
  return failed && !terminal ? 1 : 0;
}
