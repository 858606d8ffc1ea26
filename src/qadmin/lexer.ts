/**
 * qadmin's input, split the way upstream's console reads it: statements end at `;` outside
 * quotes; a statement is words, quoted names ("..." or '...', a doubled quote inside stands
 * for one), numbers and the signs `=`, `,`, `*`. Keywords are words compared without case;
 * names keep the case they were typed in.
 */
import { SkytoolsError } from '../errors.js';

export type TokenKind = 'word' | 'quoted' | 'sign';

export interface Token {
  kind: TokenKind;
  /** The value: a word as typed, a quoted name without its quotes, the sign itself. */
  value: string;
  /** Offsets in the statement's text: `rest` slots keep the raw text from here. */
  start: number;
  end: number;
}

const signs = new Set(['=', ',', '*', '(', ')']);

function isWordChar(ch: string): boolean {
  return !/\s/.test(ch) && !signs.has(ch) && ch !== ';' && ch !== '"' && ch !== "'";
}

export interface LexResult {
  tokens: Token[];
  /** An opening quote without its closing one, at this offset (completion stops there). */
  openQuote?: number;
}

/** Split one statement into tokens; an unterminated quote is reported, not thrown. */
export function lex(text: string): LexResult {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const start = i;
      let value = '';
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i] as string;
        if (c === ch) {
          if (text[i + 1] === ch) {
            value += ch;
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (!closed) return { tokens, openQuote: start };
      tokens.push({ kind: 'quoted', value, start, end: i });
      continue;
    }
    if (signs.has(ch)) {
      tokens.push({ kind: 'sign', value: ch, start: i, end: i + 1 });
      i++;
      continue;
    }
    const start = i;
    while (i < text.length && isWordChar(text[i] as string)) i++;
    tokens.push({ kind: 'word', value: text.slice(start, i), start, end: i });
  }
  return { tokens };
}

/** `lex` for a statement about to run: an unterminated quote is a syntax error. */
export function lexStatement(text: string): Token[] {
  const { tokens, openQuote } = lex(text);
  if (openQuote !== undefined) {
    throw new SkytoolsError(
      'USAGE',
      `syntax error: unterminated quoted string at "${text.slice(openQuote, openQuote + 20)}"`,
    );
  }
  return tokens;
}

/**
 * Cut input into complete statements (each without its `;`) and the unfinished rest, which
 * the console keeps until more lines arrive.
 */
export function splitStatements(text: string): { statements: string[]; rest: string } {
  const statements: string[] = [];
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote !== null) {
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === ';') {
      const statement = text.slice(start, i).trim();
      if (statement !== '') statements.push(statement);
      start = i + 1;
    }
  }
  return { statements, rest: text.slice(start) };
}

/** A name as qadmin prints it back for completion: bare when it lexes as one word. */
export function completionWord(name: string): string {
  if (name !== '' && [...name].every(isWordChar)) return name;
  return `"${name.replaceAll('"', '""')}"`;
}
