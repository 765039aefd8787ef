/**
 * Waiting for an origin run on behalf of one caller: that caller's soft and hard timeouts, its abort
 * signal, and its stale fallback (`staleIfError`). A run is shared by every caller of a key; each
 * waits (and may leave) on its own, so one caller's timeout or abort never disturbs another.
 * @module
 */
import type { Entry } from './entry.js';
import { CacheOriginTimeoutError } from './errors.js';
import type { FlightRun } from './flight.js';
import type { ResolvedCall } from './options.js';
import type { CacheStats } from './stats.js';

/** What waiting needs of a cached function. */
export interface WaitingContext {
  readonly name: string;
  readonly stats: CacheStats;
  /** The function's origin timeouts in ms (a call's own override them). */
  readonly softMs: number | undefined;
  readonly hardMs: number | undefined;
}

/**
 * Wait for `run` on behalf of one caller, applying that caller's soft/hard timeouts, abort signal and
 * stale fallback. Without any of them (the common case) this is the run's own promise: no timers.
 * `onStaleServed` is told of an origin error that a stale value answered (for logs and stats).
 */
export function waitFor<C extends WaitingContext>(
  ctx: C,
  run: FlightRun,
  call: ResolvedCall | undefined,
  fallback: Entry | undefined,
  onStaleServed: (ctx: C, error: unknown) => void,
): Promise<unknown> {
  const softMs = call?.softMs ?? ctx.softMs;
  const hardMs = call?.hardMs ?? ctx.hardMs;
  const signal = call?.signal;
  const softUsable = softMs !== undefined && fallback !== undefined;
  if (!softUsable && hardMs === undefined && signal === undefined && fallback === undefined) return run.promise;
  if (signal?.aborted) {
    run.leave(signal.reason);
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    let softTimer: ReturnType<typeof setTimeout> | undefined;
    let hardTimer: ReturnType<typeof setTimeout> | undefined;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      if (softTimer !== undefined) clearTimeout(softTimer);
      if (hardTimer !== undefined) clearTimeout(hardTimer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const serveStale = (counter: 'stale' | 'staleIfError'): void => {
      ctx.stats[counter]++;
      resolve((fallback as Entry).value);
    };
    const onAbort = (): void => {
      if (!settle()) return;
      run.leave(signal?.reason);
      reject(signal?.reason);
    };
    run.promise.then(
      (value) => {
        if (settle()) resolve(value);
      },
      (error: unknown) => {
        if (!settle()) return;
        if (fallback === undefined) return reject(error);
        onStaleServed(ctx, error);
        serveStale('staleIfError');
      },
    );
    if (softUsable) {
      softTimer = setTimeout(() => {
        if (settle()) serveStale('stale'); // the run goes on and updates the cache when it answers
      }, softMs);
    }
    if (hardMs !== undefined) {
      hardTimer = setTimeout(() => {
        if (!settle()) return;
        ctx.stats.timeouts++;
        const error = new CacheOriginTimeoutError(ctx.name, hardMs);
        run.leave(error);
        if (fallback !== undefined) serveStale('staleIfError');
        else reject(error);
      }, hardMs);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
