/**
 * Reading SkyTools INI files: the ConfigParser layout upstream's tools use, plus libusual's
 * `%include` (pgqd configs use it). This module only splits text into sections and raw
 * values; interpolation and typing live in config.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.js';

/** One raw value with where it was written, so errors can point at the line. */
export interface RawValue {
  value: string;
  file: string;
  line: number;
}

/** Section name → key (lower-cased, as ConfigParser does) → raw value. Order is file order. */
export type IniSections = Map<string, Map<string, RawValue>>;

const maxIncludeDepth = 10;

/** Read and split an INI file; an unreadable file is a ConfigError naming it. */
export function readIniFile(file: string): IniSections {
  const sections: IniSections = new Map();
  parseInto(sections, file, readText(file, undefined), 0);
  return sections;
}

/** Split INI text that did not come from a file (tests, `--ini` samples). */
export function parseIni(text: string, file = '<string>'): IniSections {
  const sections: IniSections = new Map();
  parseInto(sections, file, text, 0);
  return sections;
}

function readText(file: string, from: { file: string; line: number } | undefined): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const where = from ? ` (included from ${from.file}:${from.line})` : '';
    throw new ConfigError(`cannot read config file ${file}${where}: ${why}`, { file }, error);
  }
}

function parseInto(sections: IniSections, file: string, text: string, depth: number): void {
  let section: Map<string, RawValue> | undefined;
  let last: RawValue | undefined;
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    const lineNo = index + 1;
    const trimmed = line.trim();
    if (trimmed === '') {
      last = undefined;
      continue;
    }
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    // An indented line continues the value above it (ConfigParser's multi-line values).
    if (/^\s/.test(line) && last) {
      last.value = last.value === '' ? trimmed : `${last.value}\n${trimmed}`;
      continue;
    }
    if (trimmed.startsWith('%include')) {
      const target = trimmed.slice('%include'.length).trim();
      if (target === '' || depth >= maxIncludeDepth) {
        throw new ConfigError(
          target === '' ? '%include needs a file name' : 'too many nested %include files',
          { file, line: lineNo },
        );
      }
      const included = path.resolve(path.dirname(file), expandHome(target));
      parseInto(sections, included, readText(included, { file, line: lineNo }), depth + 1);
      section = undefined;
      last = undefined;
      continue;
    }
    const header = /^\[([^\]]+)\]\s*$/.exec(trimmed);
    if (header) {
      const name = (header[1] as string).trim();
      section = sections.get(name);
      if (!section) {
        section = new Map();
        sections.set(name, section);
      }
      last = undefined;
      continue;
    }
    const assignment = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(trimmed);
    if (!assignment) {
      throw new ConfigError(`${file}:${lineNo}: cannot parse line: ${trimmed.slice(0, 60)}`, {
        file,
        line: lineNo,
      });
    }
    if (!section) {
      throw new ConfigError(`${file}:${lineNo}: key outside of any [section]`, {
        file,
        line: lineNo,
        key: assignment[1],
      });
    }
    last = { value: assignment[2] as string, file, line: lineNo };
    section.set((assignment[1] as string).toLowerCase(), last);
  }
}

/** `~` and `~/x` expand to the home directory, as upstream does for file names. */
export function expandHome(file: string): string {
  if (file === '~') return process.env.HOME ?? file;
  if (file.startsWith('~/')) return path.join(process.env.HOME ?? '~', file.slice(2));
  return file;
}
