/**
 * One section of a SkyTools INI file with ConfigParser semantics: `[DEFAULT]` values and
 * built-in defaults (`job_name` from the file name, ...) under the section's own, `%(name)s`
 * interpolation (or `${name}` / `${section:name}` with `config_format = 2`), `--set`
 * overrides on top, and typed getters whose errors name file, section and key.
 */
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from './errors.js';
import { expandHome, type IniSections, parseIni, type RawValue, readIniFile } from './ini.js';

export interface ConfigOptions {
  /** Defaults the script provides (upstream's `cf_defaults`), under the file's values. */
  defaults?: Record<string, string>;
  /** `--set key=value` overrides: they win over the file. */
  overrides?: Record<string, string>;
}

const maxDepth = 10;

export class Config {
  /** Absolute path of the file, or `<string>`. */
  readonly file: string;
  /** The main section (service name) this object reads. */
  readonly section: string;
  private readonly sections: IniSections;
  private readonly builtins: Map<string, string>;
  private readonly overrides: Map<string, string>;
  private readonly format: 1 | 2;

  private constructor(
    file: string,
    sections: IniSections,
    section: string,
    options: ConfigOptions,
  ) {
    this.file = file;
    this.sections = sections;
    this.section = section;
    const base = path.basename(file).replace(/\.[^.]*$/, '');
    this.builtins = new Map(
      Object.entries({
        job_name: base,
        service_name: section,
        host_name: os.hostname(),
        config_dir: path.dirname(file),
        config_file: file,
        ...options.defaults,
      }),
    );
    this.overrides = new Map(
      Object.entries(options.overrides ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const format = this.rawLookup(section, 'config_format')?.value ?? '1';
    if (format !== '1' && format !== '2') {
      throw this.error('config_format', `config_format must be 1 or 2, not "${format}"`);
    }
    this.format = format === '2' ? 2 : 1;
  }

  /**
   * Load `file` and read the first of `sections` present in it (e.g. `['pgqd']`, or
   * `['londiste', 'londiste3']`: upstream names with or without the `3`).
   */
  static load(file: string, sections: string[], options: ConfigOptions = {}): Config {
    const absolute = path.resolve(expandHome(file));
    return Config.fromSections(absolute, readIniFile(absolute), sections, options);
  }

  /** The same from text, for tests and generated configs. */
  static fromText(
    text: string,
    sections: string[],
    options: ConfigOptions & { file?: string } = {},
  ): Config {
    const file = options.file ?? '<string>';
    return Config.fromSections(file, parseIni(text, file), sections, options);
  }

  private static fromSections(
    file: string,
    parsed: IniSections,
    sections: string[],
    options: ConfigOptions,
  ): Config {
    const found = sections.find((name) => parsed.has(name));
    if (found === undefined) {
      throw new ConfigError(`${file}: no [${sections.join('] or [')}] section`, {
        file,
        section: sections[0],
      });
    }
    return new Config(file, parsed, found, options);
  }

  /** The keys written in the main section itself (not `[DEFAULT]`, not built-ins). */
  ownKeys(): string[] {
    return [...(this.sections.get(this.section)?.keys() ?? [])];
  }

  /** Keys of the main section that `known` does not list (see `known-keys.ts`). */
  unknownKeys(known: Iterable<string>): string[] {
    const allowed = new Set([...known, 'config_format']);
    return this.ownKeys().filter((key) => !allowed.has(key));
  }

  /** Where a key of the main section was written (an `%include`d file keeps its own name). */
  keyLocation(key: string): { file: string; line: number } | undefined {
    const raw = this.sections.get(this.section)?.get(key.toLowerCase());
    return raw === undefined ? undefined : { file: raw.file, line: raw.line };
  }

  has(key: string): boolean {
    return this.lookup(this.section, key.toLowerCase()) !== undefined;
  }

  /** A string value, interpolated; a missing key without a default is an error. */
  get(key: string, fallback?: string): string {
    const name = key.toLowerCase();
    const value = this.lookup(this.section, name);
    if (value === undefined) {
      if (fallback !== undefined) return fallback;
      throw this.error(name, `missing required key "${name}"`);
    }
    return this.interpolate(this.section, name, value, 0);
  }

  getInt(key: string, fallback?: number): number {
    const text = this.getOptional(key);
    if (text === undefined) return this.need(key, fallback);
    if (!/^[+-]?\d+$/.test(text.trim())) throw this.badValue(key, text, 'an integer');
    return Number.parseInt(text, 10);
  }

  getFloat(key: string, fallback?: number): number {
    const text = this.getOptional(key);
    if (text === undefined) return this.need(key, fallback);
    const value = Number(text.trim());
    if (text.trim() === '' || !Number.isFinite(value)) throw this.badValue(key, text, 'a number');
    return value;
  }

  /** ConfigParser booleans: 1/yes/true/on and 0/no/false/off, any case. */
  getBool(key: string, fallback?: boolean): boolean {
    const text = this.getOptional(key);
    if (text === undefined) return this.need(key, fallback);
    const word = text.trim().toLowerCase();
    if (['1', 'yes', 'true', 'on'].includes(word)) return true;
    if (['0', 'no', 'false', 'off'].includes(word)) return false;
    throw this.badValue(key, text, 'a boolean (1/0, yes/no, true/false, on/off)');
  }

  /** Comma-separated, blanks trimmed, empty items dropped; an empty value is []. */
  getList(key: string, fallback?: string[]): string[] {
    const text = this.getOptional(key);
    if (text === undefined) return this.need(key, fallback);
    return text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  /**
   * A period in seconds: a plain number (float, as upstream), or a number with a unit
   * (`500ms`, `10s`, `5 min`, `1h`, `1d`). Negative periods are refused.
   */
  getSeconds(key: string, fallback?: number): number {
    const text = this.getOptional(key);
    if (text === undefined) return this.need(key, fallback);
    const match =
      /^(\d+(?:\.\d*)?|\.\d+)\s*(ms|msec|s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)?$/i.exec(
        text.trim(),
      );
    if (!match) throw this.badValue(key, text, 'a period in seconds (e.g. 1, 0.5, 10s, 5min)');
    const unit = (match[2] ?? 's').toLowerCase();
    const scale = unit.startsWith('ms')
      ? 0.001
      : unit.startsWith('s')
        ? 1
        : unit.startsWith('m')
          ? 60
          : unit.startsWith('h')
            ? 3600
            : 86400;
    return Number(match[1]) * scale;
  }

  /** `k:v, k2` → { k: 'v', k2: 'k2' } (a key without a value maps to itself, as upstream). */
  getDict(key: string, fallback?: Record<string, string>): Record<string, string> {
    const text = this.getOptional(key);
    if (text === undefined) return this.need(key, fallback);
    const out: Record<string, string> = {};
    for (const item of text.split(',')) {
      const trimmed = item.trim();
      if (trimmed === '') continue;
      const colon = trimmed.indexOf(':');
      const name = colon < 0 ? trimmed : trimmed.slice(0, colon).trim();
      out[name] = colon < 0 ? trimmed : trimmed.slice(colon + 1).trim();
    }
    return out;
  }

  /** A size: `1`, `2 B`, `3K`, `4 MB`, `1G` (binary multiples, as upstream's hsize_to_bytes). */
  getBytes(key: string, fallback?: number): number {
    const text = this.getOptional(key);
    if (text === undefined) return this.need(key, fallback);
    const match = /^(\d+)\s*([kmgtp]?)b?$/i.exec(text.trim());
    if (!match) throw this.badValue(key, text, 'a size (e.g. 512, 10K, 4 MB)');
    const power = ' kmgtp'.indexOf((match[2] || ' ').toLowerCase());
    return Number(match[1]) * 1024 ** power;
  }

  /** A file name with `~` expanded; `""` and `-` are kept as given. */
  getFile(key: string, fallback?: string): string {
    const text = this.getOptional(key);
    if (text === undefined) return this.need(key, fallback);
    if (text === '' || text === '-') return text;
    return expandHome(text.trim());
  }

  /** The error for a key whose value is unusable, naming file, section and key. */
  error(key: string, message: string): ConfigError {
    const raw = this.rawLookup(this.section, key.toLowerCase());
    const where = raw ? `${raw.file}:${raw.line}` : this.file;
    return new ConfigError(`${where}: [${this.section}] ${message}`, {
      file: raw?.file ?? this.file,
      section: this.section,
      key,
    });
  }

  private getOptional(key: string): string | undefined {
    return this.has(key) ? this.get(key) : undefined;
  }

  private need<T>(key: string, fallback: T | undefined): T {
    if (fallback === undefined) throw this.error(key, `missing required key "${key}"`);
    return fallback;
  }

  private badValue(key: string, text: string, what: string): ConfigError {
    return this.error(key, `${key} = "${text}" is not ${what}`);
  }

  private rawLookup(section: string, key: string): RawValue | undefined {
    return this.sections.get(section)?.get(key) ?? this.sections.get('DEFAULT')?.get(key);
  }

  private lookup(section: string, key: string): string | undefined {
    if (section === this.section) {
      const override = this.overrides.get(key);
      if (override !== undefined) return override;
    }
    const raw = this.rawLookup(section, key);
    if (raw !== undefined) return raw.value;
    return section === this.section ? this.builtins.get(key) : undefined;
  }

  private interpolate(section: string, key: string, value: string, depth: number): string {
    if (depth > maxDepth) {
      throw this.error(key, `interpolation of "${key}" is nested too deep (a loop?)`);
    }
    const resolve = (refSection: string, ref: string): string => {
      const name = ref.toLowerCase();
      const found = this.lookup(refSection, name);
      if (found === undefined) {
        const where = refSection === section ? '' : ` in [${refSection}]`;
        throw this.error(key, `value of "${key}" refers to unknown key "${name}"${where}`);
      }
      return this.interpolate(refSection, name, found, depth + 1);
    };
    if (this.format === 2) {
      return value.replace(/\$\$|\$\{([^}:]+)(?::([^}]+))?\}/g, (whole, a, b) => {
        if (whole === '$$') return '$';
        return b === undefined ? resolve(section, a) : resolve(a, b);
      });
    }
    return value.replace(/%%|%\(([^)]+)\)s|%/g, (whole, name) => {
      if (whole === '%%') return '%';
      if (name === undefined) {
        throw this.error(key, `bad "%" in value of "${key}": write %% for a percent sign`);
      }
      return resolve(section, name);
    });
  }
}
