import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDataMaintainer } from '../../src/cli/data-maintainer.js';
import { runQueueLoader } from '../../src/cli/queue-loader.js';
import { runQueueMover } from '../../src/cli/queue-mover.js';
import { runQueueSplitter } from '../../src/cli/queue-splitter.js';
import { Config } from '../../src/config/index.js';
import {
  loadDataMaintainerSettings,
  loadQueueLoaderSettings,
  loadQueueMoverSettings,
  loadQueueSplitterSettings,
} from '../../src/consumers/index.js';
import { runHere } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-queue-samples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tools = [
  ['queue_mover', runQueueMover, loadQueueMoverSettings],
  ['queue_splitter', runQueueSplitter, loadQueueSplitterSettings],
  ['queue_loader', runQueueLoader, loadQueueLoaderSettings],
  ['data_maintainer', runDataMaintainer, loadDataMaintainerSettings],
] as const;

describe('--ini samples', () => {
  for (const [name, run, load] of tools) {
    it(`${name}: the sample loads as printed, --set applied`, async () => {
      const printed = await runHere(run, ['--ini', '--set', 'loop_delay=2']);
      expect(printed.code).toBe(0);
      expect(printed.stdout).toMatch(new RegExp(`^\\[${name}\\]`));
      expect(printed.stdout).toMatch(/^loop_delay = 2$/m);
      const file = path.join(dir, `${name}.ini`);
      writeFileSync(file, printed.stdout);
      const settings = load(Config.load(file, [name]));
      expect(settings.loopDelay).toBe(2);
    });
  }

  it('queue_loader: table sections over [DEFAULT], macros kept for split_part', () => {
    const file = path.join(dir, 'loader.ini');
    writeFileSync(
      file,
      `[queue_loader]
db = dbname=x
queue_name = q

[DEFAULT]
table_mode = direct
split_part = %(table_name)s_%%(year)s

[table public.a]
table_mode = split

[table b]
row_mode = bulk
`,
    );
    const settings = loadQueueLoaderSettings(Config.load(file, ['queue_loader']));
    expect(settings.tables.get('public.a')).toMatchObject({
      mode: 'split',
      rowMode: 'plain',
      splitPart: '%(table_name)s_%(year)s',
    });
    expect(settings.tables.get('public.b')).toMatchObject({ mode: 'direct', rowMode: 'bulk' });
    expect(settings.defaultTable.mode).toBe('direct');
  });
});
