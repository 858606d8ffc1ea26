/**
 * The spare's own side (spare.ts starts spares): kept apart so that every run of a tool can
 * ask whether it is a spare without loading the daemon and logging modules.
 */

export const spareMarker = 'SKYTOOLS_SPARE';

export type SpareMessage = { spare: 'waiting' } | { args: string[] };

/** True in a spare that has not yet been given its arguments. */
export function isSpare(): boolean {
  return process.env[spareMarker] === '1' && typeof process.send === 'function';
}

/**
 * Spare side: `prepare` (load what the work needs), say so, wait for the rest of the command
 * line; null when the parent went away first.
 */
export async function awaitSpareArgs(prepare: () => Promise<void>): Promise<string[] | null> {
  delete process.env[spareMarker];
  await prepare();
  return new Promise((resolve) => {
    const onDisconnect = () => resolve(null);
    process.once('disconnect', onDisconnect);
    process.once('message', (message: SpareMessage) => {
      process.removeListener('disconnect', onDisconnect);
      resolve('args' in message ? message.args : null);
    });
    process.send?.({ spare: 'waiting' } satisfies SpareMessage);
  });
}
