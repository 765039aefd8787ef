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

  /** How many keys have a run in flight. */
  get size(): number {
    return this.#running.size;
  }
}
