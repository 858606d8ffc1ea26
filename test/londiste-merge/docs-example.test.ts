/**
 * docs/londiste.md's merge walkthrough, run as written (test/harness/doc-walkthrough.ts) with
 * our `londiste` and `pgqd` first on the PATH: two partition roots merged into one database
 * through merge leaves and the combined queue.
 */
import { describe, expect, it } from 'vitest';
import { useExtraClusters } from '../harness/clusters.js';
import { useDocWalkthrough } from '../harness/doc-walkthrough.js';

const startCluster = useExtraClusters();

describe('docs/londiste.md merge walkthrough', () => {
  const runWalkthrough = useDocWalkthrough({
    page: 'docs/londiste.md',
    from: '### A merge walkthrough',
    to: '## Handlers',
    iniFiles: [
      'part1.ini',
      'part2.ini',
      'full.ini',
      'full_part1.ini',
      'full_part2.ini',
      'pgqd_merge.ini',
    ],
    tools: ['londiste', 'pgqd'],
    blockTimeoutMs: 240_000,
    serverBlock: false,
  });

  it('merges two partitions into one table as written', async () => {
    const { outputs } = runWalkthrough(await startCluster());
    const [, added, checked] = outputs;
    expect(added).toContain('All 1 tables of node full_part1 are in sync');
    expect(added).toContain('All 1 tables of node full_part2 are in sync');
    expect(checked).toMatch(/^eu\|1001\|500505\nus\|1000\|500499\n/m);
    expect(checked).toMatch(/^public\.orders +ok\b/m);
  }, 900_000);
});
