import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A local syslog socket for tests (test/script/fixtures/syslog-receiver.py). */
export interface SyslogReceiver {
  socket: string;
  messages: string[];
  /** Resolves with the first message matching `pattern` (rejects after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): void;
}

export async function startSyslogReceiver(): Promise<SyslogReceiver> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-syslog-'));
  const socket = path.join(dir, 'log');
  const script = path.join(import.meta.dirname, 'fixtures/syslog-receiver.py');
  const child: ChildProcess = spawn('python3', [script, socket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const messages: string[] = [];
  let rest = '';
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.stdout?.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) {
        if (part === 'ready') resolve();
        else messages.push(part);
      }
    });
  });
  return {
    socket,
    messages,
    async waitFor(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find((message) => pattern.test(message));
        if (found) return found;
        if (Date.now() > deadline) {
          throw new Error(`no syslog message matching ${pattern}; got: ${messages.join(' | ')}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close() {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
