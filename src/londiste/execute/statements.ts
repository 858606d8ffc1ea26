/**
 * A script split into its statements, only to name the one that fails (the script itself
 * runs as one query, as upstream runs it). Semicolons inside strings, quoted names, dollar
 * quotes, comments and the `BEGIN ATOMIC ... END` body of a SQL function do not split.
 */
export interface Statement {
  text: string;
  /** 1-based line of the statement's first word in the script. */
  line: number;
}

export function splitStatements(script: string): Statement[] {
  const statements: Statement[] = [];
  let start = 0;
  let depth = 0;
  let i = 0;
  const push = (end: number) => {
    const text = script.slice(start, end);
    const first = firstWord(text);
    if (first >= 0) {
      statements.push({
        text: text.slice(first).trim(),
        line: lineAt(script, start + first),
      });
    }
  };
  while (i < script.length) {
    const c = script[i] as string;
    const next = script[i + 1];
    if (c === '-' && next === '-') i = skipLine(script, i);
    else if (c === '/' && next === '*') i = skipBlockComment(script, i);
    else if (c === "'") i = skipQuoted(script, i, "'", isEscapeString(script, i));
    else if (c === '"') i = skipQuoted(script, i, '"', false);
    else if (c === '$' && !isWordChar(script[i - 1])) i = skipDollar(script, i);
    else if (isWordStart(c) && !isWordChar(script[i - 1])) {
      const end = wordEnd(script, i);
      depth = atomicDepth(script, start, i, end, depth);
      i = end;
    } else if (c === ';' && depth === 0) {
      push(i);
      start = i + 1;
      i += 1;
    } else i += 1;
  }
  push(script.length);
  return statements;
}

/**
 * BEGIN ATOMIC (a CREATE FUNCTION/PROCEDURE body) and, inside it, CASE open a block that END
 * closes; the word runs from `from` to `to` in a statement that began at `start`.
 */
function atomicDepth(script: string, start: number, from: number, to: number, depth: number) {
  const word = script.slice(from, to).toLowerCase();
  if (
    word === 'begin' &&
    /^\s+atomic\b/i.test(script.slice(to, to + 20)) &&
    /^\s*create\b/i.test(stripComments(script.slice(start, from)))
  ) {
    return depth + 1;
  }
  if (word === 'case' && depth > 0) return depth + 1;
  if (word === 'end' && depth > 0) return depth - 1;
  return depth;
}

function stripComments(text: string): string {
  return text.replace(/--[^\n]*\n?/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
}

/** Index of the first character that is neither blank nor comment; -1 when there is none. */
function firstWord(text: string): number {
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) i += 1;
    else if (c === '-' && text[i + 1] === '-') i = skipLine(text, i);
    else if (c === '/' && text[i + 1] === '*') i = skipBlockComment(text, i);
    else return i;
  }
  return -1;
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text[i] === '\n') line += 1;
  return line;
}

function skipLine(text: string, i: number): number {
  const end = text.indexOf('\n', i);
  return end < 0 ? text.length : end + 1;
}

/** Block comments nest in PostgreSQL. */
function skipBlockComment(text: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < text.length) {
    if (text[j] === '/' && text[j + 1] === '*') {
      depth += 1;
      j += 2;
    } else if (text[j] === '*' && text[j + 1] === '/') {
      depth -= 1;
      j += 2;
      if (depth === 0) return j;
    } else j += 1;
  }
  return j;
}

/** A quoted string or name; a doubled quote stays inside, as does a backslash-escaped one in E''. */
function skipQuoted(text: string, i: number, quote: string, backslash: boolean): number {
  let j = i + 1;
  while (j < text.length) {
    if (backslash && text[j] === '\\') j += 2;
    else if (text[j] === quote && text[j + 1] === quote) j += 2;
    else if (text[j] === quote) return j + 1;
    else j += 1;
  }
  return j;
}

function isEscapeString(text: string, i: number): boolean {
  return /[eE]/.test(text[i - 1] ?? '') && !isWordChar(text[i - 2]);
}

/** `$tag$ ... $tag$`; a `$1` parameter or a lone `$` is not a quote. */
function skipDollar(text: string, i: number): number {
  const tag = /^\$([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(text.slice(i));
  if (tag === null) return i + 1;
  const close = text.indexOf(tag[0], i + tag[0].length);
  return close < 0 ? text.length : close + tag[0].length;
}

function isWordStart(c: string): boolean {
  return /[A-Za-z_\u0080-\uffff]/.test(c);
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[\w$\u0080-\uffff]/.test(c);
}

function wordEnd(text: string, i: number): number {
  let j = i;
  while (j < text.length && isWordChar(text[j])) j += 1;
  return j;
}
