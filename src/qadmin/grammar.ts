/**
 * The shape of qadmin's commands, written once and used twice: to parse a statement (which
 * command, which names) and to complete one (what may come next at the cursor). A grammar
 * is keywords, name slots, sequences, alternatives and optional parts; matching walks every
 * way through it at once, so the furthest point any way reached names what was expected
 * there when nothing matches.
 */
import type { Token } from './lexer.js';

/** What a slot holds; completion offers names of that kind from the database. */
export type SlotKind =
  | 'queue'
  | 'consumer'
  | 'subconsumer'
  | 'node'
  | 'table'
  | 'sequence'
  | 'number'
  | 'batch'
  | 'name';

export type Grammar =
  | { type: 'kw'; word: string; bind?: string }
  | { type: 'slot'; name: string; kind: SlotKind; star: boolean }
  | { type: 'seq'; items: Grammar[] }
  | { type: 'alt'; items: Grammar[] }
  | { type: 'opt'; item: Grammar }
  | { type: 'rest'; name: string };

export const kw = (word: string): Grammar => ({ type: 'kw', word });
/** A keyword whose presence is bound to `name` (`close` in `unregister subconsumer`). */
export const flag = (word: string, name = word): Grammar => ({ type: 'kw', word, bind: name });
/** A name (or number) bound to `name`; `star` also takes `*` (all of them). */
export const slot = (name: string, kind: SlotKind, star = false): Grammar => ({
  type: 'slot',
  name,
  kind,
  star,
});
/** Keywords given as one string (`'show queue'`) or grammars, in order. */
export const seq = (...items: (Grammar | string)[]): Grammar => ({
  type: 'seq',
  items: items.flatMap((item) => (typeof item === 'string' ? item.split(' ').map(kw) : [item])),
});
export const alt = (...items: (Grammar | string)[]): Grammar => ({
  type: 'alt',
  items: items.map((item) => (typeof item === 'string' ? seq(item) : item)),
});
export const opt = (...items: (Grammar | string)[]): Grammar => ({
  type: 'opt',
  item: seq(...items),
});
/** The statement's remaining text, raw (`alter queue q set ...`, `connect ...`). */
export const rest = (name: string): Grammar => ({ type: 'rest', name });

export type Terminal =
  | { type: 'kw'; word: string }
  | { type: 'slot'; kind: SlotKind; star: boolean; name: string }
  | { type: 'rest' };

export interface Bindings {
  /** Slot values; `*` is kept as `*` only where the slot allows it. */
  [name: string]: string;
}

interface State {
  pos: number;
  binds: Bindings;
}

export interface MatchResult {
  /** Bindings of each complete match, in grammar order. */
  complete: Bindings[];
  /** The furthest token position any way reached, and the terminals wanted there. */
  furthest: number;
  expected: Terminal[];
}

/** Match `tokens` (of `text`) against `grammar`. */
export function matchGrammar(grammar: Grammar, tokens: Token[], text: string): MatchResult {
  const walker = new Walker(tokens, text);
  const ends = walker.walk(grammar, [{ pos: 0, binds: {} }]);
  const complete = ends.filter((state) => state.pos === tokens.length).map((s) => s.binds);
  for (const state of ends) {
    // A way that matched but left tokens over was stopped by the first of them.
    if (state.pos < tokens.length) walker.note(state.pos, null);
  }
  return { complete, furthest: walker.furthest, expected: walker.expected };
}

class Walker {
  furthest = -1;
  expected: Terminal[] = [];

  constructor(
    private readonly tokens: Token[],
    private readonly text: string,
  ) {}

  note(pos: number, terminal: Terminal | null): void {
    if (pos > this.furthest) {
      this.furthest = pos;
      this.expected = [];
    }
    if (pos === this.furthest && terminal !== null) this.expected.push(terminal);
  }

  walk(grammar: Grammar, states: State[]): State[] {
    if (states.length === 0) return [];
    switch (grammar.type) {
      case 'seq':
        return grammar.items.reduce((current, item) => this.walk(item, current), states);
      case 'alt':
        return grammar.items.flatMap((item) => this.walk(item, states));
      case 'opt':
        return [...states, ...this.walk(grammar.item, states)];
      case 'rest':
        return states.map((state) => {
          const first = this.tokens[state.pos];
          this.note(state.pos, { type: 'rest' });
          return {
            pos: this.tokens.length,
            binds: { ...state.binds, [grammar.name]: first ? this.text.slice(first.start) : '' },
          };
        });
      case 'kw':
        return states.flatMap((state) => {
          const token = this.tokens[state.pos];
          if (token?.kind === 'word' && token.value.toLowerCase() === grammar.word) {
            const binds = grammar.bind
              ? { ...state.binds, [grammar.bind]: token.value }
              : state.binds;
            return [{ pos: state.pos + 1, binds }];
          }
          this.note(state.pos, { type: 'kw', word: grammar.word });
          return [];
        });
      case 'slot':
        return states.flatMap((state) => {
          const token = this.tokens[state.pos];
          if (token && slotAccepts(grammar.kind, grammar.star, token)) {
            return [{ pos: state.pos + 1, binds: { ...state.binds, [grammar.name]: token.value } }];
          }
          this.note(state.pos, {
            type: 'slot',
            kind: grammar.kind,
            star: grammar.star,
            name: grammar.name,
          });
          return [];
        });
    }
  }
}

function slotAccepts(kind: SlotKind, star: boolean, token: Token): boolean {
  if (token.kind === 'sign') return star && token.value === '*';
  if (kind === 'number') return token.kind === 'word' && /^\d+$/.test(token.value);
  return true;
}

/** A terminal as the error line names it. */
export function describeTerminal(terminal: Terminal): string {
  switch (terminal.type) {
    case 'kw':
      return terminal.word;
    case 'rest':
      return 'more text';
    case 'slot': {
      const what =
        terminal.kind === 'number'
          ? 'a number'
          : terminal.kind === 'batch'
            ? 'a batch id or consumer name'
            : terminal.kind === 'name'
              ? `a ${terminal.name.replace(/_/g, ' ')}`
              : `a ${terminal.kind} name`;
      return terminal.star ? `${what} or *` : what;
    }
  }
}
