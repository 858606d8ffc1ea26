import { expect } from 'vitest';

/** Expect a rejection with exactly this primary message and SQLSTATE (P0001: raise exception). */
export async function expectPgError(
  promise: Promise<unknown>,
  message: string,
  code = 'P0001',
): Promise<void> {
  await expect(promise).rejects.toMatchObject({ message, code });
}
