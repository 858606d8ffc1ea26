// npm run bench [-- --quick] [--only NAME[,NAME]] [--repeat N] [--db CONNSTR]
//
// Every workload runs with its baseline in the same process on the same server, alternating
// samples; prints a table and writes bench/results/<timestamp>.json.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import type { WorkloadResult } from './lib/compare.js';
import { contextFor, openBenchServer } from './lib/context.js';
import { renderNotes, renderTable, writeResults } from './lib/report.js';
import { workloads } from './workloads/index.js';

const program = new Command('bench')
  .description('skytools benchmarks: each workload against its baseline, in the same run')
  .option('--quick', 'fewer events and samples (the whole run in under 3 minutes)')
  .option('--only <names>', 'comma-separated workload names to run')
  .option('--repeat <n>', 'samples per side (default 5, 3 with --quick)', positiveInt)
  .option(
    '--db <connstr>',
    'use this database (libpq key=value or URL) instead of a throwaway cluster',
  )
  .option('--list', 'list the workloads and exit')
  .option('--out <dir>', 'where to write the JSON results', defaultResultsDir());

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function defaultResultsDir(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
}

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<{
    quick?: boolean;
    only?: string;
    repeat?: number;
    db?: string;
    list?: boolean;
    out: string;
  }>();
  if (opts.list) {
    for (const w of workloads) console.log(`${w.name.padEnd(14)} ${w.description}`);
    return;
  }
  const wanted = opts.only?.split(',').map((name) => name.trim());
  const unknown = wanted?.filter((name) => !workloads.some((w) => w.name === name)) ?? [];
  if (unknown.length > 0) {
    program.error(
      `unknown workload ${unknown.join(', ')}; known: ${workloads.map((w) => w.name).join(', ')}`,
    );
  }
  const selected = workloads.filter((w) => !wanted || wanted.includes(w.name));
  const quick = opts.quick ?? false;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const server = await openBenchServer(opts.db, log);
  const results: Record<string, WorkloadResult> = {};
  try {
    const ctx = contextFor(server, { quick, repeat: opts.repeat ?? (quick ? 3 : 5), log });
    for (const workload of selected) {
      log(`${workload.name}: ${workload.description}`);
      results[workload.name] = await workload.run(ctx);
    }
  } finally {
    await server.close();
  }
  console.log(renderTable(results));
  for (const note of renderNotes(results)) console.log(`\n${note}`);
  console.log(`\nmachine: ${JSON.stringify(server.machine)}`);
  console.log(`results: ${writeResults(opts.out, server.machine, results)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
