/**
 * docs/cascade.md's three-node walkthrough, run as written (test/harness/doc-walkthrough.ts)
 * with `setadm` and `pgqd` on the PATH as the built bins.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { useExtraClusters } from '../harness/clusters.js';
import { useDocWalkthrough } from '../harness/doc-walkthrough.js';

const startCluster = useExtraClusters();

describe('docs/cascade.md', () => {
  const runWalkthrough = useDocWalkthrough({
    page: 'docs/cascade.md',
    from: '## A three-node walkthrough',
    to: '## Switchover and failover',
    iniFiles: ['root.ini', 'branch.ini', 'leaf.ini', 'pgqd.ini'],
    tools: ['setadm', 'pgqd'],
    blockTimeoutMs: 60_000,
  });

  it('the three-node walkthrough runs as written', async () => {
    const { outputs, env } = runWalkthrough(await startCluster());
    const [, produce, events, move] = outputs;
    expect(produce).toMatch(/node leaf at tick \d+, caught up with root root/);
    expect(produce).toMatch(
      /^root \(root\)\n(.*\n)*\+--branch \(branch\)\n(.*\n)* {3}\+--leaf \(leaf\)$/m,
    );
    expect(produce).toContain('Node: branch\nType: branch\nStatus: OK\n');
    const onRoot = spawnSync(
      'psql',
      [
        '-d',
        'root',
        '-At',
        '-c',
        "select ev_id, ev_type, ev_data from pgq.event_template where ev_type = 'order.created'",
      ],
      { env, encoding: 'utf8' },
    );
    expect(onRoot.stdout).toMatch(/^\d+\|order\.created\|\{"id": 1\}\n$/);
    expect(events).toBe(onRoot.stdout);
    expect(move).toContain('leaf: consumer leaf now reads from root');
    expect(move).toMatch(/^\+--leaf \(leaf\) {2}/m);
  });
});
