/**
 * In-process single-flight: concurrent misses of one key share one origin run.
 *
 * Flights live on the cache, not on a function, because functions with a `sharedContext` or a fixed
 * `key` share keys and so must share runs too.
 *
 * A run also counts who waits for it. A caller that stops waiting (its `signal` aborted, or its hard
 * timeout passed) leaves; when the last one has left, the run's abort signal fires, so an origin that
 * read {@link originSignal} can stop early. Other waiters are never disturbed by one leaving.
 *
 * A run whose last caller left, or that passed a caller's hard timeout, is retired: new callers start
 * a run of their own instead of joining one that may never answer, and the table forgets it (a
 * bounded list keeps its right to write a late answer until a newer run of the key starts).
 * @module
 */

/**
 * A caller waiting for a run with its own timers or signal (see `waiting.ts`): told once how the run
 * settled, unless it left first.
 */
export interface RunWaiter {
  resolved(value: unknown): void;
  rejected(error: unknown): void;
}

/** One origin run and the callers waiting for it. */
export class FlightRun {
  /** The run's result: settles once the origin has answered (and, by default, its write is done). */
  promise!: Promise<unknown>;
  /** What the run is tied to, for invalidations that abandon runs by it (set by the engine). */
  scope: unknown;
  /** The run waited on the cross-process miss lock held by another process (for call records). */
  lockWaited = false;
  /** The run was answered by the value another process's lock holder wrote, not by the origin. */
  fromStore = false;
  /** How long its origin took, in ms, once it answered (runs that may store their result). */
  originMs: number | undefined = undefined;
  #waiters = 1;
  #controller: AbortController | undefined;
  // Callers with timers or a signal. The run attaches one reaction to its promise and tells them from
  // there, so a caller that leaves is dropped from this set: nothing of it stays attached to a run
  // whose origin never settles.
  #listening: Set<RunWaiter> | undefined;
  #done = false;
  #retired = false;
  #flights: Flights | undefined;
  #key = '';

  /** The signal that fires when every caller has stopped waiting. Created on first use. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  /** Another caller waits for this run. */
  join(): void {
    this.#waiters++;
  }

  /**
   * Tell `waiter` how the run settles (until it leaves). Costs one reaction on the run's promise per
   * run, never one per caller.
   */
  attach(waiter: RunWaiter): void {
    if (this.#done) {
      // Already told everyone: this one hears it straight from the settled promise.
      this.promise.then(
        (value) => waiter.resolved(value),
        (error: unknown) => waiter.rejected(error),
      );
      return;
    }
    if (this.#listening === undefined) {
      this.#listening = new Set();
      this.promise.then(
        (value) => this.#tell(true, value),
        (error: unknown) => this.#tell(false, error),
      );
    }
    this.#listening.add(waiter);
  }

  #tell(ok: boolean, outcome: unknown): void {
    this.#done = true;
    const listening = this.#listening as Set<RunWaiter>;
    this.#listening = undefined;
    for (const waiter of listening) {
      if (ok) waiter.resolved(outcome);
      else waiter.rejected(outcome);
    }
  }

  /**
   * A caller stopped waiting (`waiter`, when it was attached, is dropped); the last one to go aborts
   * the run's signal with `reason` and retires the run: new callers start a run of their own.
   */
  leave(reason: unknown, waiter?: RunWaiter): void {
    if (waiter !== undefined) this.#listening?.delete(waiter);
    this.#waiters--;
    if (this.#waiters === 0) {
      this.#controller?.abort(reason);
      this.retire();
    }
  }

  /**
   * The run is past a hard timeout (or every caller has gone): new callers no longer join it, and the
   * flight table stops offering it. Its answer, if it ever comes, is still written unless a newer run
   * of the key started (see {@link Flights.isCurrent}).
   */
  retire(): void {
    if (this.#retired) return;
    this.#retired = true;
    this.#flights?.retire(this.#key, this);
  }

  /** @internal called by {@link Flights.start}. */
  registerAs(flights: Flights, key: string): void {
    this.#flights = flights;
    this.#key = key;
  }

  /** Callers still waiting. */
  get waiters(): number {
    return this.#waiters;
  }

  /** Callers attached with their own timers or signal, not yet told nor gone. */
  get attached(): number {
    return this.#listening?.size ?? 0;
  }

  /** New callers may join: someone still waits and no hard timeout has passed. */
  get joinable(): boolean {
    return !this.#retired && this.#waiters > 0;
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

/**
 * How many retired runs (past a hard timeout, or left by every caller, and still without an answer)
 * keep the right to write their late answer. Beyond it the oldest loses that right: memory stays
 * bounded however many keys have an origin that never answers.
 */
export const MAX_LATE_RUNS = 1000;

/** The origin runs currently in flight, by store key. */
export class Flights {
  // One map of runs (no WeakMap beside it: WeakMap.set showed up at 5% of a miss's CPU).
  readonly #running = new Map<string, FlightRun>();
  // Retired runs that may still write when they answer, oldest first (bounded by MAX_LATE_RUNS).
  readonly #late = new Map<string, FlightRun>();

  /** The joinable run in flight for `key`, if any. */
  get(key: string): Promise<unknown> | undefined {
    return this.#running.get(key)?.promise;
  }

  /** The joinable run in flight for `key` with its waiter count, if any. */
  runFor(key: string): FlightRun | undefined {
    return this.#running.get(key);
  }

  /**
   * Register `run` as the flight for `key` (replacing any older one, as a forced refresh does, and
   * taking the right to write from a retired one) and forget it when it settles. Returns `run`.
   */
  start<T>(key: string, run: Promise<T>, record?: FlightRun): Promise<T> {
    let flight = record;
    if (flight === undefined) {
      flight = new FlightRun();
      flight.promise = run;
    }
    const registered = flight;
    registered.registerAs(this, key);
    if (this.#late.size !== 0) this.#late.delete(key);
    this.#running.set(key, registered);
    const forget = (): void => {
      if (this.#running.get(key) === registered) this.#running.delete(key);
      else if (this.#late.get(key) === registered) this.#late.delete(key);
    };
    run.then(forget, forget);
    return run;
  }

  /** @internal move `run` out of the joinable table (see {@link FlightRun.retire}). */
  retire(key: string, run: FlightRun): void {
    // Replaced or invalidated meanwhile: it has no right to write any more, nothing to keep.
    if (this.#running.get(key) !== run) return;
    this.#running.delete(key);
    this.#late.set(key, run);
    if (this.#late.size > MAX_LATE_RUNS) this.#late.delete(this.#late.keys().next().value as string);
  }

  /**
   * True while `run` is the newest run registered for `key` (joinable or retired): only then may its
   * result be written.
   */
  isCurrent(key: string, run: Promise<unknown>): boolean {
    if (this.#running.get(key)?.promise === run) return true;
    return this.#late.size !== 0 && this.#late.get(key)?.promise === run;
  }

  /**
   * Forget the run in flight for `key` (after an invalidation): later misses start a new run, and the
   * abandoned one no longer writes its result, which may predate the invalidation.
   */
  abandon(key: string): void {
    this.#running.delete(key);
    this.#late.delete(key);
  }

  /**
   * Forget every run (in flight or retired) whose `scope` matches (after a tag invalidation or a
   * clear): later misses start new runs, and the abandoned ones no longer write.
   */
  abandonWhere(matches: (scope: unknown) => boolean): void {
    for (const table of [this.#running, this.#late]) {
      for (const [key, run] of table) if (matches(run.scope)) table.delete(key);
    }
  }

  /** How many keys have a joinable run in flight. */
  get size(): number {
    return this.#running.size;
  }

  /** How many retired runs still wait for a late answer they may write (at most {@link MAX_LATE_RUNS}). */
  get retired(): number {
    return this.#late.size;
  }
}
