/** Progress and summary text of the demo: plain functions from numbers to lines. */

export interface ConsumerSnapshot {
  name: string;
  kind: string;
  consumed: number;
  perSecond: number;
  batches: number;
  /** Seconds since the tick of the consumer's last finished batch (pgq.get_consumer_info). */
  lag: number | null;
  /** Events not yet in a batch the consumer finished. */
  pending: number | null;
  p50: number | null;
  p99: number | null;
}

export interface Snapshot {
  elapsed: number;
  /** 0 = until stopped. */
  duration: number;
  phase: 'running' | 'draining' | 'done';
  produced: number;
  producedPerSecond: number;
  ticks: number;
  consumers: ConsumerSnapshot[];
}

const ms = (value: number | null) => (value === null ? '-' : `${value.toFixed(1)}ms`);
const secs = (value: number | null) => (value === null ? '-' : `${value.toFixed(2)}s`);
const whole = (value: number | null) => (value === null ? '-' : String(Math.round(value)));

function clock(s: Snapshot): string {
  const total = s.duration > 0 ? ` of ${s.duration}s` : ' (Ctrl-C stops)';
  const phase = s.phase === 'draining' ? ', producer stopped, consumers catching up' : '';
  return `${s.elapsed.toFixed(0)}s${total}${phase}`;
}

/** The screen shown in a terminal, redrawn in place every interval. */
export function screenLines(title: string, s: Snapshot): string[] {
  const row = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(24) : cell.padStart(10))).join('');
  return [
    `${title}  ${clock(s)}`,
    '',
    row(['', 'events/s', 'total', 'batches', 'lag', 'pending', 'p50', 'p99']),
    row(['producer', whole(s.producedPerSecond), String(s.produced), '', '', '', '', '']),
    ...s.consumers.map((c) =>
      row([
        `${c.name} (${c.kind})`,
        whole(c.perSecond),
        String(c.consumed),
        String(c.batches),
        secs(c.lag),
        whole(c.pending),
        ms(c.p50),
        ms(c.p99),
      ]),
    ),
    '',
    `ticker: ${s.ticks} ticks   latency: producer's commit to handler, over the last interval`,
  ];
}

/** One line per interval, for logs and pipes. */
export function progressLine(s: Snapshot): string {
  const consumers = s.consumers.map(
    (c) =>
      `${c.name} ${whole(c.perSecond)}/s total ${c.consumed} batches ${c.batches} lag ${secs(c.lag)} p50 ${ms(c.p50)} p99 ${ms(c.p99)}`,
  );
  return [
    `[${clock(s)}] produced ${whole(s.producedPerSecond)}/s total ${s.produced}`,
    ...consumers,
    `ticks ${s.ticks}`,
  ].join(' | ');
}

export interface ConsumerSummary {
  name: string;
  kind: string;
  consumed: number;
  batches: number;
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
}

export interface DemoSummary {
  target: string;
  queue: string;
  seconds: number;
  produced: number;
  producedPerSecond: number;
  ticks: number;
  consumers: ConsumerSummary[];
  /** Events the transactional consumer's committed work counted in its tally table. */
  tally: number | null;
  /** What was removed or kept at the end. */
  cleanup: string[];
}

export function summaryLines(s: DemoSummary): string[] {
  const lines = [
    `summary: ${s.seconds.toFixed(1)}s on ${s.target}, queue ${s.queue}`,
    `  produced   ${s.produced} events (${whole(s.producedPerSecond)}/s), ${s.ticks} ticks`,
  ];
  for (const c of s.consumers) {
    const { p50, p99, max } = c.latencyMs;
    lines.push(
      `  ${c.name.padEnd(10)} ${c.consumed} events in ${c.batches} batches (${c.kind}); latency p50 ${ms(p50)} p99 ${ms(p99)} max ${ms(max)}`,
    );
  }
  if (s.tally !== null) {
    const tx = s.consumers.find((c) => c.kind === 'transactional');
    const same = tx !== undefined && tx.consumed === s.tally;
    lines.push(
      `  tally      ${s.tally} events counted in the transactional consumer's own transactions${same ? ' (each exactly once)' : ''}`,
    );
  }
  for (const line of s.cleanup) lines.push(`  ${line}`);
  return lines;
}
