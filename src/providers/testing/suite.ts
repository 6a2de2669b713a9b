import { afterAll, beforeAll, beforeEach } from 'vitest';
import { PixelError } from '../../protocol/errors.ts';
import type { FakeServer } from './types.ts';

/** Set-up shared by the adapter test files (vitest only: fakes themselves must not import this). */

/**
 * Starts a fake before the suite's tests, resets it before each test and closes it after them.
 * `start` keeps the fake in the test file's own variable: `serveFakeForSuite(async () => (fake = await startXFake()))`.
 */
export function serveFakeForSuite(start: () => Promise<FakeServer>): void {
  let fake: FakeServer | undefined;
  beforeAll(async () => {
    fake = await start();
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => fake?.reset());
}

/** The PixelError a call fails with; a success, or any other error, fails the test. */
export async function failure(promise: Promise<unknown>): Promise<PixelError> {
  try {
    await promise;
  } catch (error) {
    if (PixelError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a PixelError');
}
