/**
 * In-process single-flight: concurrent misses of one key share one origin run.
 *
 * Flights live on the cache, not on a function, because functions with a `sharedContext` or a fixed
 * `key` share keys and so must share runs too.
 * @module
 */

/** The origin runs currently in flight, by store key. */
export class Flights {
  readonly #running = new Map<string, Promise<unknown>>();

  /** The run in flight for `key`, if any. */
  get(key: string): Promise<unknown> | undefined {
    return this.#running.get(key);
  }

  /**
   * Register `run` as the flight for `key` (replacing any older one, as a forced refresh does) and
   * forget it when it settles. Returns `run`.
   */
  start<T>(key: string, run: Promise<T>): Promise<T> {
    this.#running.set(key, run);
    const forget = (): void => {
      if (this.#running.get(key) === run) this.#running.delete(key);
    };
    run.then(forget, forget);
    return run;
  }

  /** True while `run` is the newest run registered for `key`: only then may its result be written. */
  isCurrent(key: string, run: Promise<unknown>): boolean {
    return this.#running.get(key) === run;
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
