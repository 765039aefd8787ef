/**
 * What a call threw or rejected with, for tests that inspect the error itself.
 */
import { CacheConfigError } from '../../lib/errors.js';

/** What `run` throws (typed as an Error for inspection); fails the test when it throws nothing. */
export function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

/** The CacheConfigError that `run` throws (fails when it throws anything else, or nothing). */
export function configError(run: () => unknown): CacheConfigError {
  const error = thrown(run);
  if (error instanceof CacheConfigError) return error;
  throw error;
}

/** The CacheConfigError a promise (or the promise a function returns) rejects with. */
export async function rejection(pending: Promise<unknown> | (() => Promise<unknown>)): Promise<CacheConfigError> {
  try {
    await (typeof pending === 'function' ? pending() : pending);
  } catch (error) {
    if (error instanceof CacheConfigError) return error;
    throw error;
  }
  throw new Error('expected a rejection with CacheConfigError');
}
