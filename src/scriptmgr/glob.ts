/**
 * `config_list` globs: `~` and `$VAR` / `${VAR}` expanded (as upstream's expanduser and
 * expandvars), then `*`, `?` and `[...]` matched segment by segment like a shell: a leading
 * dot is matched only by a dot. Files only, sorted, each once. (fs.glob needs Node 22.)
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { expandHome } from '../config/index.js';

const magic = /[*?[]/;

export function expandVars(text: string): string {
  return text.replace(/\$(\w+)|\$\{(\w+)\}/g, (whole, a?: string, b?: string) => {
    const value = process.env[(a ?? b) as string];
    return value === undefined ? whole : value;
  });
}

function segmentRegex(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i] as string;
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (ch === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      const body = segment
        .slice(i + 1, close)
        .replace(/^!/, '^')
        .replace(/\\/g, '\\\\');
      source += `[${body}]`;
      i = close;
    } else source += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    // Gone or unreadable between listing and looking: not a file the glob can name.
    return false;
  }
}

/** The files `pattern` names; relative patterns are taken from `base`. */
export function expandGlob(pattern: string, base: string): string[] {
  const full = path.resolve(base, expandHome(expandVars(pattern.trim())));
  const segments = full.split('/').filter((s) => s !== '');
  let paths = ['/'];
  for (const segment of segments) {
    if (!magic.test(segment)) {
      paths = paths.map((p) => path.join(p, segment));
      continue;
    }
    const regex = segmentRegex(segment);
    paths = paths.flatMap((dir) => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return []; // a directory a pattern passes through need not exist, as in a shell
      }
      return names
        .filter((name) => regex.test(name) && (!name.startsWith('.') || segment.startsWith('.')))
        .map((name) => path.join(dir, name));
    });
  }
  return [...new Set(paths.filter(isFile))].sort();
}
