/**
 * Waiting for an origin run on behalf of one caller: that caller's soft and hard timeouts, its abort
 * signal, and its stale fallback (`staleIfError`). A run is shared by every caller of a key; each
 * waits (and may leave) on its own, so one caller's timeout or abort never disturbs another.
 * @module
 */
import type { Entry } from './entry.js';
import { MAX_TIMER_MS } from './defaults.js';
import { CacheConfigError, CacheOriginTimeoutError } from './errors.js';
import type { FlightRun, RunWaiter } from './flight.js';
import type { ResolvedCall } from './config/resolve.js';
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
 *
 * A caller with timers or a signal is attached to the run (one reaction on the run's promise per run)
 * and detached when it leaves, so callers that time out on an origin that never answers leave nothing
 * behind. The first hard timeout that passes retires the run: later callers start a new one.
 */
export function waitFor<C extends WaitingContext>(
  ctx: C,
  run: FlightRun,
  call: ResolvedCall | undefined,
  fallback: Entry | undefined,
  onStaleServed: (ctx: C, error: unknown) => void,
): Promise<unknown> {
  const softMs = timerMs(call?.softMs ?? ctx.softMs);
  const hardMs = timerMs(call?.hardMs ?? ctx.hardMs);
  const signal = call?.signal;
  const softUsable = softMs !== undefined && fallback !== undefined;
  if (!softUsable && hardMs === undefined && signal === undefined && fallback === undefined) return run.promise;
  if (signal !== undefined) {
    const refused = refuseAborted(signal);
    if (refused !== undefined) {
      run.leave(undefined);
      return refused;
    }
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
      if (signal !== undefined) unlisten(signal, onAbort);
      return true;
    };
    const serveStale = (counter: 'stale' | 'staleIfError'): void => {
      ctx.stats[counter]++;
      call?.record?.fellBack(fallback as Entry);
      resolve((fallback as Entry).value);
    };
    const waiter: RunWaiter = {
      resolved(value) {
        if (settle()) resolve(value);
      },
      rejected(error) {
        if (!settle()) return;
        if (fallback === undefined) return reject(error);
        onStaleServed(ctx, error);
        serveStale('staleIfError');
      },
    };
    const onAbort = (): void => {
      if (!settle()) return;
      const reason = abortReason(signal as AbortSignal);
      run.leave(reason, waiter);
      reject(reason);
    };
    if (signal !== undefined && !listen(signal, onAbort)) {
      settled = true;
      const error = new CacheConfigError(
        'cachette: callOptions.signal: its addEventListener failed; expected an AbortSignal',
        'callOptions.signal',
        [{ path: 'callOptions.signal', message: 'expected an AbortSignal' }],
      );
      run.leave(error);
      reject(error);
      return;
    }
    run.attach(waiter);
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
        // Past a hard timeout the run may never answer: later callers must start their own.
        run.retire();
        run.leave(error, waiter);
        if (fallback !== undefined) serveStale('staleIfError');
        else reject(error);
      }, hardMs);
    }
  });
}

// Validation refuses longer timeouts; one that got through anyway means "no timer" here rather
// than a timer Node would fire after 1 ms.
function timerMs(ms: number | undefined): number | undefined {
  return ms !== undefined && ms <= MAX_TIMER_MS ? ms : undefined;
}

/**
 * A rejection with the signal's reason when `signal` has already aborted, else `undefined`. Checked
 * before a call reads the cache or starts a run: an aborted call does nothing.
 */
export function refuseAborted(signal: AbortSignal): Promise<never> | undefined {
  let aborted: boolean;
  try {
    aborted = signal.aborted === true;
  } catch {
    return undefined; // a broken getter: listening decides (see waitFor)
  }
  return aborted ? Promise.reject(abortReason(signal)) : undefined;
}

/** The signal's reason, or an `AbortError` when it gives none. */
function abortReason(signal: AbortSignal): unknown {
  let reason: unknown;
  try {
    reason = signal.reason;
  } catch {
    reason = undefined;
  }
  return reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
}

// A signal is validated when the call's options are, but what its methods do at run time is the
// caller's: a throwing one must neither crash the process nor leave the call unsettled.
function listen(signal: AbortSignal, onAbort: () => void): boolean {
  try {
    signal.addEventListener('abort', onAbort, { once: true });
    return true;
  } catch {
    return false;
  }
}

function unlisten(signal: AbortSignal, onAbort: () => void): void {
  try {
    if (typeof signal.removeEventListener === 'function') signal.removeEventListener('abort', onAbort);
  } catch {
    // the listener stays on the caller's signal (it was added with `once`); the call is settled anyway
  }
}
