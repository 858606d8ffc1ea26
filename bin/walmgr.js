#!/usr/bin/env node
// xarchive runs once per WAL segment: take the short path that loads only what it needs.
const args = process.argv.slice(2);
if (args.includes('xarchive')) {
  const { runXarchive } = await import('../dist/cli/walmgr-xarchive.js');
  const code = runXarchive(args);
  if (code !== null) process.exit(code);
}
const { runWalmgr } = await import('../dist/cli/walmgr.js');
process.exit(await runWalmgr(args));
