/** docs/config.md: the example file, loaded as written. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Config } from '../../src/config/index.js';
import { settingsFromConfig } from '../../src/ticker/index.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/config.md', import.meta.url)), 'utf8');
const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-config-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/config.md', () => {
  it('loads the example: job_name from the file name, [DEFAULT], ~ and lists', () => {
    const ini = /```ini\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const file = path.join(dir, 'ticker_main.ini');
    writeFileSync(file, ini);
    const settings = settingsFromConfig(Config.load(file, ['pgqd']));
    expect(settings.logfile).toBe(path.join(os.homedir(), 'log/ticker_main.log'));
    expect(settings.pidfile).toBe(path.join(os.homedir(), 'pid/ticker_main.pid'));
    expect(settings.databaseList).toEqual(['shop', 'billing']);
  });
});
