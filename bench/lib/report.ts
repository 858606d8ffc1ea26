import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkloadResult } from './compare.js';

/** The results as a Markdown table, one row per workload variant. */
export function renderTable(results: Record<string, WorkloadResult>): string {
  const header = '| workload | ours | baseline | ratio | unit | min-max (ours) |';
  const rule = '|---|---:|---:|---:|---|---|';
  const rows = Object.entries(results).map(([name, r]) => {
    const range = r.min !== undefined ? `${fmt(r.min)}-${fmt(r.max)}` : '';
    return `| ${name} | ${fmt(r.value)} | ${fmt(r.baseline)} | ${r.ratio ?? ''} | ${r.unit} | ${range} |`;
  });
  return [header, rule, ...rows].join('\n');
}

/** One line per workload or side that did not run, with the reason it gave. */
export function renderNotes(results: Record<string, WorkloadResult>): string[] {
  const notes: string[] = [];
  for (const [name, r] of Object.entries(results)) {
    for (const key of ['skipped', 'londiste_missing', 'baseline_missing']) {
      if (r[key] !== undefined) notes.push(`${name}: ${key.replace('_', ' ')}: ${r[key]}`);
    }
  }
  return notes;
}

function fmt(value: number | string | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'number' ? value.toLocaleString('en-US') : value;
}

/** bench/results/<YYYY-MM-DDTHHMMSS>.json with the machine and every workload's row. */
export function writeResults(
  dir: string,
  machine: Record<string, string | number>,
  workloads: Record<string, WorkloadResult>,
  when = new Date(),
): string {
  mkdirSync(dir, { recursive: true });
  const stamp = when.toISOString().slice(0, 19).replaceAll(':', '');
  const file = path.join(dir, `${stamp}.json`);
  writeFileSync(file, `${JSON.stringify({ machine, workloads }, null, 2)}\n`);
  return file;
}
