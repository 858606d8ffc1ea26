#!/usr/bin/env node
// xarchive and xrestore run once per WAL file: take the short path that loads only what they need.
const args = process.argv.slice(2);
if (args.includes('xarchive') || args.includes('xrestore')) {
  const { runLean } = await import('../dist/cli/walmgr-lean.js');
  const code = runLean(args);
  if (code !== null) process.exit(code);
}
const { runWalmgr } = await import('../dist/cli/walmgr.js');
process.exit(await runWalmgr(args));
