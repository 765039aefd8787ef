/**
 * In-process single-flight: concurrent misses of one key share one origin run.
 *
 * Flights live on the cache, not on a function, because functions with a `sharedContext` or a fixed
 * `key` share keys and so must share runs too.
 *
 * A run also counts who waits for it. A caller that stops waiting (its `signal` aborted, or its hard
 * timeout passed) leaves; when the last one has left, the run's abort signal fires, so an origin that
 * read {@link originSignal} can stop early. Other waiters are never disturbed by one leaving.
 * @module
 */

/** One origin run and the callers waiting for it. */
export class FlightRun {
  /** The run's result: settles once the origin has answered (and, by default, its write is done). */
  promise!: Promise<unknown>;
  #waiters = 1;
  #controller: AbortController | undefined;

  /** The signal that fires when every caller has stopped waiting. Created on first use. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  /** Another caller waits for this run. */
  join(): void {
    this.#waiters++;
  }

  /** A caller stopped waiting; the last one to go aborts the run's signal with `reason`. */
  leave(reason: unknown): void {
    this.#waiters--;
    if (this.#waiters === 0) this.#controller?.abort(reason);
  }

  /** Callers still waiting. */
  get waiters(): number {
    return this.#waiters;
  }

  /** Every caller has gone: its origin may be stopping, so new callers must not join it. */
  get abandoned(): boolean {
    return this.#waiters <= 0;
  }
}

/** The run whose origin is being called right now (synchronously), for {@link originSignal}. */
let calling: FlightRun | undefined;

/**
 * Call `origin` with `run` as the current run, so that {@link originSignal} can find it during the
 * synchronous start of the origin.
 */
export function callAs<T>(run: FlightRun, origin: () => T): T {
  const previous = calling;
  calling = run;
  try {
    return origin();
  } finally {
    calling = previous;
  }
}

/**
 * The abort signal of the cached call now running the origin: it fires when every caller waiting for
 * this run has gone (aborted through their `signal`, or past their hard `timeout`), so the origin can
 * stop work nobody will use. Call it synchronously at the start of the wrapped function, before its
 * first `await`; elsewhere it returns `undefined`.
 *
 * @example
 * ```ts
 * const getReport = cached(async (id: number) => {
 *   const signal = originSignal();               // first line, before any await
 *   const response = await fetch(`https://reports.example/${id}`, { signal });
 *   return response.json();
 * }, { name: 'getReport', timeout: { hard: '2s' } });
 * ```
 */
export function originSignal(): AbortSignal | undefined {
  return calling?.signal;
}

/** The origin runs currently in flight, by store key. */
export class Flights {
  // One map of runs (no WeakMap beside it: WeakMap.set showed up at 5% of a miss's CPU).
  readonly #running = new Map<string, FlightRun>();

  /** The run in flight for `key`, if any. */
  get(key: string): Promise<unknown> | undefined {
    return this.#running.get(key)?.promise;
  }

  /** The run in flight for `key` with its waiter count, if any. */
  runFor(key: string): FlightRun | undefined {
    return this.#running.get(key);
  }

  /**
   * Register `run` as the flight for `key` (replacing any older one, as a forced refresh does) and
   * forget it when it settles. Returns `run`.
   */
  start<T>(key: string, run: Promise<T>, record?: FlightRun): Promise<T> {
    let flight = record;
    if (flight === undefined) {
      flight = new FlightRun();
      flight.promise = run;
    }
    const registered = flight;
    this.#running.set(key, registered);
    const forget = (): void => {
      if (this.#running.get(key) === registered) this.#running.delete(key);
    };
    run.then(forget, forget);
    return run;
  }

  /** True while `run` is the newest run registered for `key`: only then may its result be written. */
  isCurrent(key: string, run: Promise<unknown>): boolean {
    return this.#running.get(key)?.promise === run;
  }

  /**
   * Forget the run in flight for `key` (after an invalidation): later misses start a new run, and the
   * abandoned one no longer writes its result, which may predate the invalidation.
   */
  abandon(key: string): void {
    this.#running.delete(key);
  }

  /** How many keys have a run in flight. */
  get size(): number {
    return this.#running.size;
  }
}
