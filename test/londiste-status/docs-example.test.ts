/**
 * docs/londiste.md's walkthrough, run as written (test/harness/doc-walkthrough.ts) with our
 * `londiste` and `pgqd` first on the PATH (Debian's /usr/bin/londiste would shadow ours).
 */
import { describe, expect, it } from 'vitest';
import { useExtraClusters } from '../harness/clusters.js';
import { useDocWalkthrough } from '../harness/doc-walkthrough.js';

const startCluster = useExtraClusters();

describe('docs/londiste.md', () => {
  const runWalkthrough = useDocWalkthrough({
    page: 'docs/londiste.md',
    from: '## A walkthrough',
    to: '## Table states and the copy',
    iniFiles: ['root.ini', 'leaf.ini', 'pgqd.ini'],
    tools: ['londiste', 'pgqd'],
    blockTimeoutMs: 240_000,
  });

  it('the root and leaf walkthrough runs as written', async () => {
    const { outputs } = runWalkthrough(await startCluster());
    const [, added, checked] = outputs;
    expect(added).toContain('All 1 tables of node leaf are in sync');
    expect(checked).toMatch(/^root \(root\)\n\| {2}Tables: 1\/0\/0\n/m);
    expect(checked).toMatch(/^\+--leaf \(leaf\)\n {6}Tables: 1\/0\/0\n/m);
    expect(checked).toMatch(
      /^Counting public\.orders\nsrcdb: 1001 rows, checksum=(-?\d+)\ndstdb: 1001 rows, checksum=\1\n/m,
    );
  }, 900_000);
});
